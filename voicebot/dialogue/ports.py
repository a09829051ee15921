"""The dialogue's only doors to the NLU and the shop: thin adapters, so the state machine reads as
dialogue and the other areas can change behind these few functions.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlite_utils

from voicebot.config import Config
from voicebot.shop import actions, catalog, customers, orders
from voicebot.shop.errors import NothingToUndo, OrderNotFound, OutOfStock, ShopError
from voicebot.shop.facade import Shop

__all__ = ["NothingToUndo", "OutOfStock", "ShopError"]

Row = dict[str, Any]

# --- NLU -----------------------------------------------------------------------------------------


def understand(text: str, lang: str, role: str, products: list[str]) -> dict[str, Any]:
    """The NLU's intent as a plain dict: the five contract keys plus the extras the dialogue uses
    (``approximate``, ``candidates`` for an ambiguous product, ``period``, ``unit``)."""
    from voicebot.nlu import understand as nlu_understand

    intent = nlu_understand(text, lang, role, products)
    out: dict[str, Any] = dict(intent.contract())
    if intent.approximate:
        out["approximate"] = True
    for key in ("period", "unit"):
        if getattr(intent, key, None):
            out[key] = getattr(intent, key)
    if len(intent.ambiguous or []) > 1:
        out["candidates"] = list(intent.ambiguous)
    return out


def parse_number(text: str, lang: str, slot: str) -> tuple[int | float, bool] | None:
    """A bare spoken answer to "多少钱？"/"几条？" ("两百块", "十来个", "two fifty") as (value, approximate)."""
    from voicebot.nlu.numbers import parse_number as nlu_parse_number

    found = nlu_parse_number(text, lang, money=(slot == "price"))
    return None if found is None else (found.value, bool(found.approximate))


def match_product(text: str, lang: str, names: list[str]) -> str | None:
    """The one catalog name this answer mentions (homophone-tolerant: "手链", "绿松实手链"), or None."""
    if not names:
        return None
    from voicebot.nlu.matching import find_product
    from voicebot.nlu.normalize import normalize

    result = find_product(normalize(text, lang), names, lang)
    return result.product if result.product and not result.ambiguous else None


def spoken_name(text: str, lang: str) -> str | None:
    """A new name as spoken (a product or a person): Chinese without spaces, English lower-case."""
    text = re.sub(r"[\s,.!?;:，。！？；：、\"'“”]+", " ", text).strip()
    if lang == "zh":
        text = text.replace(" ", "")
    elif lang == "en":
        text = text.lower()
    return text or None


# --- shop ----------------------------------------------------------------------------------------


MAX_NAME_CHARS = {"cjk": 20, "latin": 40}  # longer than any product name a seller would say


def name_too_long(name: str | None, lang: str) -> bool:
    """A "name" longer than a product name could be: mis-heard or hostile; never read it back."""
    from voicebot.nlu.packs import load_pack

    return bool(name) and len(name or "") > MAX_NAME_CHARS.get(load_pack(lang).script, 40)


def catalog_rows(db: sqlite_utils.Database) -> dict[str, Row]:
    """Active products by name, each with ``cover_photo_id``."""
    return {r["name"]: r for r in catalog.list_products(db)}


def actor_id(db: sqlite_utils.Database, channel: str, user_id: str, role: str, lang: str) -> int:
    """The speaker's customer id (created on first contact, with the role the caller decided)."""
    row = customers.get_or_create_customer(db, channel, user_id, language=lang, role=role)
    return row["id"]


def display_name(db: sqlite_utils.Database, customer_id: int) -> str | None:
    row = customers.get_customer(db, customer_id)
    return (row or {}).get("display_name")


def last_action_id(db: sqlite_utils.Database, actor: int) -> int | None:
    last = actions.last_action(db, actor)
    return last["id"] if last else None


def stock_of(db: sqlite_utils.Database, product_id: int | None) -> int | None:
    row = catalog.get_product(db, product_id) if product_id is not None else None
    return row["stock"] if row else None


def ship_latest_for_name(shop: Shop, spoken: str, actor: int) -> Row | None:
    """Ship the newest unshipped order of the customer with this spoken name (None: nothing to ship)."""
    try:
        return shop.ship_latest(spoken, actor)
    except OrderNotFound:
        return None


def latest_order(db: sqlite_utils.Database, customer_id: int) -> Row | None:
    found = orders.list_orders(db, customer_id=customer_id, limit=1)
    return found[0] if found else None


def orders_today(shop: Shop) -> list[Row]:
    """Today's orders (shop time zone), newest first, cancelled ones left out."""
    return [o for o in shop.list_orders(today=True) if o["status"] != "cancelled"]


def sales(shop: Shop, period: str, now: datetime | None = None) -> Row:
    report = shop.report(period if period in ("today", "week", "month") else "today", now)
    return {"count": report["orders"], "quantity": report["quantity"], "revenue_fen": report["revenue_fen"]}


def sellers(db: sqlite_utils.Database, config: Config, channel: str) -> list[tuple[str, str, str]]:
    """(channel, channel user id, language) of every seller who can hear a voice message."""
    out: dict[tuple[str, str], str] = {}
    for row in customers.list_customers(db, role="seller"):
        if row["channel"] != customers.SPOKEN_CHANNEL and not row["unsubscribed"]:
            out[(row["channel"], row["channel_user_id"])] = row["language"] or config.shop.language
    for user_id in config.shop.sellers:
        out.setdefault(("wechat", user_id), config.shop.language)
    return [(ch, uid, lang) for (ch, uid), lang in out.items()]


def money(price: float | int | str | Decimal) -> str:
    """A spoken price for the shop's ``to_fen`` (a string keeps 99.99 exact)."""
    return str(price)


def leftover_name(text: str, lang: str, intent: str) -> str | None:
    """The words left once the intent's cue words and numbers are taken out ("核桃多少钱" -> "核桃"):
    what the user called a product the catalog does not have. None when nothing is left."""
    from voicebot.nlu.normalize import normalize
    from voicebot.nlu.numbers import find_numbers
    from voicebot.nlu.packs import load_pack

    pack = load_pack(lang)
    norm = normalize(text, lang)
    taken = [False] * len(norm)
    spans = [(n.start, n.end) for n in find_numbers(norm, lang)]
    for rule in pack.rules:
        if rule.intent == intent:
            spans += [m.span() for p in rule.patterns for m in p.finditer(norm)]
    units = "|".join(re.escape(u) for u in sorted(pack.units, key=len, reverse=True) if u)
    if units and pack.script == "cjk":
        spans += [m.span() for m in re.finditer(rf"^(?:{units})|(?:{units})$", norm)]
    for a, b in spans:
        for i in range(a, min(b, len(norm))):
            taken[i] = True
    words = "".join(" " if t else ch for ch, t in zip(norm, taken, strict=True)).split()
    skip = pack.stopwords | pack.name_stopwords | set(pack.raw.get("particles") or [])
    if pack.script == "latin":
        return " ".join(w for w in words if w not in skip) or None
    words = [w.strip(_CJK_EDGE_WORDS) for w in words]
    words = [w for w in words if len(w) >= 2 and w not in skip]
    return max(words, key=len) if words else None


_CJK_EDGE_WORDS = "还有的呢吗吧啊呀了这那个是要"
