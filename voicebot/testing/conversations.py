"""Conversation corpora: scripted conversations driven through the real dialogue, turn by turn, each in a
fresh SQLite shop, with what the shop should look like after every turn.

A corpus file is YAML: a list of conversations::

    - id: zh-sale-name-number
      lang: zh
      role: seller                      # default speaker; a turn may say ``role: buyer``
      shop: [[核桃, 30, 100, 斤]]        # name, price, stock, unit
      orders: [[核桃, 2]]                # optional: a buyer's pending order already waiting (buyer ``b0``)
      confidence: 0.9                   # optional: every turn arrives as voice with this recogniser
                                        # confidence (a turn may give its own); left out: typed text
      turns:
        - say: 卖给老王二十斤核桃
          expect: {orders: [{customer: 老王, items: [[核桃, 20]], total: 600}]}

``expect`` is the change the turn should make (nothing when left out):

- ``new: {木耳: [25, 40, 斤]}``: a new product (price, stock, unit; the unit may be left out)
- ``stock: {核桃: -5}``: stock changed by this much, beyond what the turn's orders took or gave back
- ``price: {核桃: 35}``: the new price
- ``removed: [核桃]``
- ``orders: [{customer, items: [[product, quantity]], total, status}]``: orders created (a buyer's own order
  needs no ``customer``; ``total`` and ``status`` are checked when given)
- ``status: {1: cancelled}``: an existing order's new status
- ``change: {1: {customer: 老张}}``: an existing order changed (or replaced by one like it with this changed)
- ``dropped: [{customer, items, total, status}]``: an order undone or cancelled
- ``asks: true``: the right answer is a question, with nothing changed yet

A turn's ``reply: [三十块]`` lists words the bot's reply must hold (a price question answered with the
price): a turn whose shop change was right but whose reply lacks one of them counts as ``missed``.

Each turn ends as one of: ``right`` (the change expected, or the question expected), ``asked`` (a question
instead of the change), ``missed`` (nothing changed, nothing asked), ``wrong`` (the shop changed otherwise
than said, without a read-back she agreed to) or ``wrong_asked`` (a wrong change she agreed to after a
read-back). ``wrong`` must stay at zero.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from voicebot.config import load_config
from voicebot.dialogue import handle_turn
from voicebot.nlu.intents import understand
from voicebot.shop import catalog, orders
from voicebot.shop.facade import Shop
from voicebot.store.db import open_db
from voicebot.store.scoped import ShopDb

OUTCOMES = ("right", "asked", "missed", "wrong", "wrong_asked")
SELLER, BUYER = "boss", "b1"
T0 = 1_800_000_000.0


def _num(value: Any) -> Decimal:
    return Decimal(str(value)).normalize() if value is not None else Decimal(0)


@dataclass
class TurnOutcome:
    conversation: str
    lang: str
    role: str
    text: str
    outcome: str
    reply: str
    expected: dict[str, Any]
    actual: dict[str, Any]
    half: str = ""

    def line(self) -> str:
        return (f"[{self.outcome}] {self.conversation} {self.role}> {self.text}\n    bot< {self.reply}\n"
                f"    expected {self.expected}\n    actual   {self.actual}")


@dataclass
class Report:
    turns: list[TurnOutcome] = field(default_factory=list)

    def counts(self, half: str | None = None) -> Counter[str]:
        return Counter(t.outcome for t in self.turns if half is None or t.half == half)

    def rate(self, half: str | None = None) -> float:
        c = self.counts(half)
        total = sum(c.values())
        return c["right"] / total if total else 0.0

    def summary(self) -> str:
        lines = []
        for half in sorted({t.half for t in self.turns}):
            c = self.counts(half)
            total = sum(c.values())
            lines.append(
                f"{half}: {total} turns — understood {c['right']} ({c['right'] / total:.0%}), asked {c['asked']},"
                f" not understood {c['missed']}, changed wrongly without asking {c['wrong']}"
                f" (wrong after a read-back: {c['wrong_asked']})"
            )
        return "\n".join(lines)


def load_corpus(path: Path | str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: a corpus is a list of conversations")
    return data


def snapshot(db: Any) -> dict[str, Any]:
    """The parts of the shop a conversation can change: products and orders."""

    products = {
        p["name"]: {"price": _num(p["price_fen"]) / 100, "stock": _num(p["stock"]), "unit": p.get("unit") or "",
                    "active": bool(p["active"])}
        for p in catalog.list_products(db, active_only=False)
        if p["active"]
    }  # fmt: skip
    removed = {p["name"] for p in catalog.list_products(db, active_only=False) if not p["active"]} - set(products)
    order_rows = {}
    for o in orders.list_orders(db):
        who = o.get("customer_name") or (f"@{o['customer_user']}" if o.get("customer_user") else None)
        if o.get("created_by") == "seller" and o.get("customer_user") == SELLER:
            who = None
        order_rows[o["id"]] = {
            "customer": who,
            "status": o["status"],
            "total": _num(o["total_fen"]) / 100,
            "items": [[i["name"], _num(i["quantity"])] for i in o["items"]],
        }
    return {"products": products, "removed": removed, "orders": order_rows}


def _version(o: dict[str, Any]) -> dict[str, Any]:
    return {k: o[k] for k in ("customer", "items", "total", "status")}


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed, in the corpus's ``expect`` form: products, and the order versions that appeared
    (``orders``) or went away (``dropped``: cancelled, undone or changed); stock that orders took or
    gave back is left out of ``stock``."""
    out: dict[str, Any] = {}
    taken: Counter[str] = Counter()
    live = lambda snap: {i: _version(o) for i, o in snap["orders"].items() if o["status"] != "cancelled"}  # noqa: E731
    old, new = live(before), live(after)
    for oid in sorted(set(old) | set(new)):
        if old.get(oid) == new.get(oid):
            continue
        if oid in old:
            out.setdefault("dropped", []).append(old[oid])
            for name, q in old[oid]["items"]:
                taken[name] -= q
        if oid in new:
            out.setdefault("orders", []).append(new[oid])
            for name, q in new[oid]["items"]:
                taken[name] += q
    for name, p in after["products"].items():
        was = before["products"].get(name)
        if was is None:
            out.setdefault("new", {})[name] = [p["price"], p["stock"] + taken[name], p["unit"]]
            continue
        change = p["stock"] - was["stock"] + taken[name]
        if change:
            out.setdefault("stock", {})[name] = change
        if p["price"] != was["price"]:
            out.setdefault("price", {})[name] = p["price"]
    gone = [n for n in before["products"] if n not in after["products"]]
    if gone:
        out["removed"] = sorted(gone)
    return out


def _expected(expect: dict[str, Any] | None, role: str, before: dict[str, Any]) -> dict[str, Any]:
    """The corpus's ``expect`` in the form :func:`delta` gives (numbers as Decimal, buyers' orders named,
    ``status``/``change`` of an existing order as its old version dropped and its new one added)."""
    out: dict[str, Any] = {}
    for key, value in (expect or {}).items():
        if key == "asks":
            continue
        if key == "new":
            out["new"] = {n: [_num(v[0]), _num(v[1]), *v[2:3]] for n, v in value.items()}
        elif key in ("stock", "price"):
            out[key] = {n: _num(v) for n, v in value.items()}
        elif key == "removed":
            out[key] = sorted(value)
        elif key in ("status", "change"):
            for oid, what in value.items():
                if int(oid) not in before["orders"]:  # an earlier turn did not make it: this cannot match
                    out.setdefault("dropped", []).append({"missing order": int(oid)})
                    continue
                was = _version(before["orders"][int(oid)])
                now = {**was, **(_order(what, role) if key == "change" else {"status": what})}
                out.setdefault("dropped", []).append(was)
                if now["status"] != "cancelled":
                    out.setdefault("orders", []).append(now)
        elif key == "dropped":
            out.setdefault("dropped", []).extend({"customer": o.get("customer"), **_order(o, role)} for o in value)
        elif key == "orders":
            out.setdefault("orders", []).extend(
                {"customer": o.get("customer", f"@{BUYER}" if role == "buyer" else None), **_order(o, role)}
                for o in value
            )
        else:
            raise ValueError(f"unknown expect key {key!r}")
    return out


def _order(o: dict[str, Any], role: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "customer" in o:
        out["customer"] = o["customer"]
    if "items" in o:
        out["items"] = [[n, _num(q)] for n, q in o["items"]]
    if "total" in o:
        out["total"] = _num(o["total"])
    if "status" in o:
        out["status"] = o["status"]
    return out


def _same_orders(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> bool:
    """Each expected order version matches a different actual one (on the keys it gives), in any order."""
    if len(expected) != len(actual):
        return False
    left = list(actual)
    for e in expected:
        hit = next((a for a in left if all(a[k] == v for k, v in e.items())), None)
        if hit is None:
            return False
        left.remove(hit)
    return True


def _matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """``actual`` is the change expected (a new product's unit and an order's total/status only when given)."""
    if set(expected) != set(actual):
        return False
    for key, exp in expected.items():
        got = actual[key]
        if key == "new":
            if set(exp) != set(got):
                return False
            for name, e in exp.items():
                if got[name][:2] != e[:2] or (len(e) > 2 and got[name][2] != e[2]):
                    return False
        elif key in ("orders", "dropped"):
            if not _same_orders(exp, got):
                return False
        elif exp != got:
            return False
    return True


def run_conversation(conv: dict[str, Any], half: str = "", config_overrides: dict[str, Any] | None = None) -> list[TurnOutcome]:
    """Drive one conversation through ``handle_turn`` in a fresh shop; one outcome per turn."""

    lang, default_role = conv.get("lang", "zh"), conv.get("role", "seller")
    out: list[TurnOutcome] = []
    with tempfile.TemporaryDirectory(prefix="voicebot-conv-") as tmp:
        overrides = {"server": {"data_dir": tmp}, "shop": {"sellers": [SELLER], "language": lang}}
        for section, values in (config_overrides or {}).items():
            overrides.setdefault(section, {}).update(values)
        config = load_config(environ={}, overrides=overrides)
        db = ShopDb(open_db(config.database), 1)
        try:
            shop = Shop(db, config)
            for name, price, stock, *unit in conv.get("shop") or []:
                shop.add_product(name, price, stock, unit[0] if unit else "")
            if conv.get("orders"):
                buyer = shop.customer("wechat", "b0")["id"]
                for name, quantity in conv["orders"]:
                    shop.place_order(name, quantity, buyer)
            now, asked_back = T0, False
            for turn in conv["turns"]:
                if not isinstance(turn.get("say"), str):  # YAML reads a bare yes / no as true / false
                    raise ValueError(f"{conv.get('id')}: say {turn.get('say')!r}: quote it, it must be text")
                role = turn.get("role", default_role)
                confidence = turn.get("confidence", conv.get("confidence"))  # None: typed text
                now += 5
                before = snapshot(db)
                result = handle_turn(
                    db, config, channel="wechat", user_id=SELLER if role == "seller" else BUYER, role=role,
                    lang=lang, text=str(turn["say"]), confidence=confidence, now=now,
                )  # fmt: skip
                actual = delta(before, snapshot(db))
                expect = turn.get("expect") or {}
                expected = _expected(expect, role, before)
                if expect.get("asks"):
                    outcome = ("right" if result.awaiting else "missed") if not actual else "wrong"
                elif _matches(expected, actual):
                    outcome = "right"
                elif not actual:
                    outcome = "asked" if result.awaiting else "missed"
                else:
                    said_yes = asked_back and understand(str(turn["say"]), lang, role, []).name == "confirm"
                    outcome = "wrong_asked" if said_yes else "wrong"
                if outcome == "right" and not all(w in result.reply for w in turn.get("reply") or ()):
                    outcome = "missed"  # the shop is as it should be, but the answer is not the one asked for
                asked_back = result.awaiting == "confirm"
                out.append(TurnOutcome(conv.get("id", "?"), lang, role, str(turn["say"]), outcome, result.reply,
                                       _plain(expected), _plain(actual), half))  # fmt: skip
        finally:
            db.close()
    return out


def _plain(value: Any) -> Any:
    """Decimals as plain numbers, for printing and JSON."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def run_corpus(paths: list[Path | str], config_overrides: dict[str, Any] | None = None) -> Report:
    """Every conversation of every file; a file's half is its name (``tune.yaml`` -> tune)."""
    report = Report()
    for path in paths:
        half = Path(path).stem
        for conv in load_corpus(path):
            report.turns.extend(run_conversation(conv, half, config_overrides))
    return report
