"""Correcting what the bot heard: preview what the right transcript would mean and change, apply it
(undo the old action, run the turn again), and keep every correction as labelled NLU data.

The preview runs the very same undo and dialogue turn inside a transaction that is rolled back, so
what the operator sees is exactly what "apply" would do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from voicebot.config import Config
from voicebot.dialogue import handle_turn
from voicebot.intents import CONTRACT_KEYS, Intent
from voicebot.nlu import understand
from voicebot.shop import actions, catalog
from voicebot.shop.facade import Shop
from voicebot.shop.shops import DEFAULT_SHOP
from voicebot.store import messages
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.scoped import ShopDb

Row = dict[str, Any]


class CorrectionError(ValueError):
    """This message cannot be corrected (as it stands); the message says why."""


@dataclass
class Outcome:
    """What a correction means and changes."""

    message_id: int
    text: str
    lang: str
    role: str
    products: list[str]
    intent: Intent
    summary: str
    undo: str | None = None
    change: str | None = None
    reply: str = ""
    old_action_id: int | None = None
    new_action_id: int | None = None
    awaiting: str | None = None
    channel: str = ""
    user: str = ""
    correction_id: int | None = None
    shop_id: int = DEFAULT_SHOP


class MessageNotFound(LookupError):
    """No such message, or one in a shop the operator does not see (the same to her)."""


Sees = Callable[[int | None], bool]  # may the operator see a row of this shop (None: in no shop)?


class _Rollback(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def summary(intent: Intent) -> str:
    """``record_sale 绿松石手链 ×2 @200 → 张三``: an intent in one line."""
    parts = [intent.name]
    if intent.product:
        parts.append(intent.product)
    if intent.quantity is not None:
        parts.append(f"×{intent.quantity}")
    if intent.price is not None:
        parts.append(f"@{intent.price}")
    if intent.customer:
        parts.append(f"→ {intent.customer}")
    return " ".join(parts)


def describe_action(db: ShopDb, action_id: int | None) -> str | None:
    """A shop change in a few words, from its journal entry."""
    if action_id is None:
        return None
    row = db.execute("SELECT kind, data_json FROM actions WHERE id = ? AND shop_id = ?",
                     (action_id, db.shop_id)).fetchone()
    if row is None:
        return None
    kind, d = row[0], json.loads(row[1])
    if kind == "create_order":
        items = ", ".join(f"{i['name']} ×{i['quantity']}" for i in d.get("items", []))
        order = db.execute(
            "SELECT c.display_name, (SELECT group_concat(alias, '/') FROM customer_aliases a"
            " WHERE a.shop_id = c.shop_id AND a.customer_id = c.id)"
            " FROM orders o LEFT JOIN customers c ON c.shop_id = o.shop_id AND c.id = o.customer_id"
            " WHERE o.shop_id = ? AND o.id = ?", (db.shop_id, d["order_id"]),
        ).fetchone()
        who = (order and (order[0] or order[1])) or ""
        number = d.get("number") or _number(db, d["order_id"])
        return f"order #{number}: {items}" + (f" → {who}" if who else "")
    if kind == "set_price":
        return f"price of {d['name']}: {d['before']['price_fen'] / 100:g} → {d['after']['price_fen'] / 100:g}"
    if kind == "adjust_stock":
        return f"stock of {d['name']} {d['delta']:+d}"
    if kind == "set_status":
        return f"order #{_number(db, d['order_id'])}: {d['before']['status']} → {d['after']['status']}"
    return f"{kind} {d.get('name', '')}".strip()


def _number(db: ShopDb, order_id: int) -> int:
    """The order's number in its shop (what the seller hears); the id when the order is gone (undone)."""
    row = db.execute("SELECT number FROM orders WHERE id = ? AND shop_id = ?", (order_id, db.shop_id)).fetchone()
    return row[0] if row and row[0] is not None else order_id


def _speaker(shop: Shop, msg: Row) -> tuple[str, str]:
    role = "seller" if shop.is_seller(msg["channel"], msg["user"]) else "buyer"
    customer = shop.customer(msg["channel"], msg["user"])
    return role, msg.get("language") or customer.get("language") or shop.config.shop.language


def _run(db: sqlite_utils.Database, config: Config, message_id: int, text: str, sees: Sees) -> Outcome:
    """Undo the message's action and run the corrected turn (the caller's transaction decides)."""
    msg = messages.get_message(db, message_id)
    if msg is None or not sees(msg.get("shop_id")):
        raise MessageNotFound(message_id)
    if msg["direction"] != "in" or msg["kind"] not in ("voice", "text"):
        raise CorrectionError("only a user's voice or text message can be corrected")
    text = " ".join(text.split())
    if not text:
        raise CorrectionError("type what the user really said")
    if msg.get("shop_id") is None:
        raise CorrectionError("this buyer is in no shop yet: there is no shop to run the sentence in")
    shop = Shop(db, config, msg["shop_id"])  # the correction re-runs in the message's shop, with its settings
    config, sdb = shop.config, shop.db
    role, lang = _speaker(shop, msg)
    products = catalog.product_names(sdb)
    outcome = Outcome(message_id, text, lang, role, products, Intent("unknown"), "", channel=msg["channel"],
                      user=msg["user"], shop_id=shop.shop_id)
    old = msg.get("action_id")
    if old is not None:
        row = sdb.execute("SELECT actor_id, undone FROM actions WHERE id = ? AND shop_id = ?",
                          (old, sdb.shop_id)).fetchone()
        if row is not None and not row[1]:
            last = actions.last_action(sdb, row[0])
            if last is None or last["id"] != old:
                raise CorrectionError("this user changed the shop again since; undo those changes first")
            outcome.undo = describe_action(sdb, old)
            shop.undo(row[0])
            outcome.old_action_id = old
    # products as they are once the old action is undone: what the user's words are matched against
    products = catalog.product_names(sdb)
    outcome.products = products
    outcome.intent = understand(text, lang, role, products)
    outcome.summary = summary(outcome.intent)
    turn = handle_turn(sdb, config, channel=msg["channel"], user_id=msg["user"], role=role, lang=lang, text=text,
                       confidence=None)
    if turn.error_code == "internal_error":  # the dialogue failed: roll back the undo too
        raise CorrectionError("the bot could not handle this sentence; nothing was changed")
    outcome.reply, outcome.awaiting = turn.reply, turn.awaiting
    if turn.action_id is not None and turn.action_id != old:
        outcome.new_action_id = turn.action_id
        outcome.change = describe_action(sdb, turn.action_id)
    return outcome


def _everyone(shop_id: int | None) -> bool:
    return True


def preview(db: sqlite_utils.Database, config: Config, message_id: int, text: str,
            sees: Sees = _everyone) -> Outcome:
    """What applying ``text`` would do, with nothing changed (``MessageNotFound`` for a message in a shop
    ``sees`` refuses)."""
    try:
        with write_tx(db):
            raise _Rollback(_run(db, config, message_id, text, sees))
    except _Rollback as done:
        return done.outcome


def apply(db: sqlite_utils.Database, config: Config, message_id: int, text: str, operator: str,
          sees: Sees = _everyone) -> Outcome:
    """Undo the old action, perform the corrected one, and record the correction (one transaction)."""
    with write_tx(db):
        outcome = _run(db, config, message_id, text, sees)
        msg = messages.get_message(db, message_id) or {}
        outcome.correction_id = db.execute(
            "INSERT INTO corrections (shop_id, message_id, operator, lang, role, products, heard, text,"
            " old_intent_json, new_intent_json, old_action_id, new_action_id, reply_text, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (outcome.shop_id, message_id, operator, outcome.lang, outcome.role, ",".join(outcome.products), msg.get("transcript"),
             outcome.text, json.dumps(msg.get("intent"), ensure_ascii=False),
             json.dumps(outcome.intent.to_contract(), ensure_ascii=False), outcome.old_action_id, outcome.new_action_id,
             outcome.reply, utc_now()),
        ).lastrowid
    return outcome


def set_notice(db: sqlite_utils.Database, shop_id: int, correction_id: int, outbox_id: int | None) -> None:
    with write_tx(db):
        db.execute("UPDATE corrections SET notice_outbox_id = ? WHERE id = ? AND shop_id = ?",
                   (outbox_id, correction_id, shop_id))


def for_message(db: sqlite_utils.Database, message_id: int, shop_id: int | None) -> list[Row]:
    return list(db.query("SELECT * FROM corrections WHERE message_id = ? AND shop_id IS NOT DISTINCT FROM ? ORDER BY id",
                         (message_id, shop_id)))


def labelled(db: sqlite_utils.Database, shop_ids: list[int]) -> list[Row]:
    """Every correction in ``shop_ids`` as a line of ``nlu_dev.jsonl``: ``lang, role, products, text, expect``."""
    out = []
    for row in db.query("SELECT * FROM corrections WHERE shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) ORDER BY id",
                        (json.dumps(shop_ids),)):
        intent = json.loads(row["new_intent_json"])
        out.append({"lang": row["lang"], "role": row["role"], "products": row["products"], "text": row["text"],
                    "expect": {k: intent.get(k) for k in CONTRACT_KEYS}})
    return out


def to_jsonl(rows: list[Row]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


__all__ = ["CorrectionError", "Outcome", "apply", "labelled", "preview", "summary", "to_jsonl"]
