"""The dialogue's doors to the shop and to the NLU's understanding: thin adapters, so the state machine
reads as dialogue and the shop can change behind these few functions.

Not the only doors: a turn's words are read once by :class:`voicebot.nlu.heard.Heard`, the rules of a
language come from :mod:`voicebot.lang` (its pack and its ``Language``), and the turn's transaction is
:mod:`voicebot.store.db`'s. Nothing here reads the words of a turn again.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from voicebot.config import SELLERS_CHANNEL, Config
from voicebot.intents import Intent
from voicebot.lang import installed_languages, language
from voicebot.nlu import understand as nlu_understand
from voicebot.nlu.heard import Heard
from voicebot.nlu.intents import second_command as nlu_second_command
from voicebot.nlu.matching import find_product
from voicebot.nlu.normalize import normalize
from voicebot.nlu.numbers import parse_number as nlu_parse_number
from voicebot.shop import actions, catalog, customers, orders
from voicebot.shop import quantity as shop_quantity
from voicebot.shop.errors import InvalidValue, NothingToUndo, OutOfStock, ShopError, TooManyPending
from voicebot.shop.facade import Shop
from voicebot.shop.money import MoneyError, to_fen
from voicebot.shop.reports import SALE_SQL, period_bounds
from voicebot.store.clock import to_iso
from voicebot.store.scoped import ShopDb

__all__ = ["MoneyError", "NothingToUndo", "OutOfStock", "ShopError", "TooManyPending", "to_fen"]

Row = dict[str, Any]
KNOWN_CUSTOMERS = 200  # the most recently named customers a name is heard as

# --- NLU -----------------------------------------------------------------------------------------


def understand(heard: Heard, role: str, products: list[str], customers: list[str] | None = None) -> Intent:
    """The NLU's intent as the dialogue takes it: an ambiguous product's candidates only when there are
    several to choose from. ``customers``: the shop's known customers (a name heard as one of them by its
    sound is that customer, read back first)."""
    intent = nlu_understand(heard.text, heard.lang, role, products, norm=heard.norm, customers=customers)
    return intent if len(intent.candidates or ()) > 1 else intent.copy(candidates=None)


def second_command(
    text: str, lang: str, role: str, products: list[str], customers: list[str] | None = None
) -> str | None:
    """The words of a second command said after the first in ``text`` (None when there is none)."""
    return nlu_second_command(text, lang, role, products, customers)


def parse_number(text: str, lang: str, slot: str) -> tuple[int | float, bool] | None:
    """A bare spoken answer to "多少钱？"/"几条？" ("两百块", "十来个", "two fifty") as (value, approximate)."""
    found = nlu_parse_number(text, lang, money=(slot == "price"))
    return None if found is None else (found.value, bool(found.approximate))


def similar_products(name: str, lang: str, names: list[str]) -> list[str]:
    """Catalog products a new name sounds like ("turquoise necklace" -> the turquoise bracelet and earrings)."""

    if not names or name in names:
        return []
    found = find_product(normalize(name, lang), names, lang)
    return list(found.candidates)[:3] if (found.product or found.ambiguous) else []


def one_character_off(name: str, lang: str, names: list[str]) -> list[str]:
    """Catalog products a new name differs from in one character only, where names are characters (松蜜 /
    蜂蜜: Whisper's wrong character, not a sound the pinyin rules would match)."""
    if language(lang).spaced or len(name) < 2:
        return []
    same_length = [n for n in names if len(n) == len(name)]
    return [n for n in same_length if sum(a != b for a, b in zip(n, name, strict=True)) == 1][:3]


def spoken_name(text: str, lang: str) -> str | None:
    """A new name as spoken (a product or a person): Chinese without spaces, English lower-case."""
    text = re.sub(r"[\s,.!?;:，。！？；：、\"'“”]+", " ", text).strip()

    if lang in installed_languages():
        text = language(lang).name_form(text)
    return text or None


# --- shop ----------------------------------------------------------------------------------------


def named_alone(text: str, lang: str, names: list[str]) -> str | None:
    """The catalog name a whole utterance is, and nothing more ("蜂蜜？", "绿松石手链。", "蜂蜜呢"): Whisper's
    prompt sometimes leaves only the product of 我要两条绿松石手链, and a buyer may ask by naming it."""
    said = spoken_name(text, lang)
    if said is None:
        return None
    for particle in language(lang).pack.particles:
        if said.endswith(particle) and len(said) > len(particle):
            said = said[: -len(particle)].rstrip()
    by_form = {spoken_name(name, lang): name for name in names}
    return by_form.get(said)


def name_too_long(name: str | None, lang: str) -> bool:
    """A "name" longer than a product name could be: mis-heard or hostile; never read it back."""
    return bool(name) and len(name or "") > language(lang).max_name_chars


def catalog_rows(db: ShopDb) -> dict[str, Row]:
    """Active products by name, each with ``cover_photo_id``."""
    return {r["name"]: r for r in catalog.list_products(db)}


def actor_id(db: ShopDb, channel: str, user_id: str, role: str, lang: str) -> int:
    """The speaker's customer id (created on first contact, with the role the caller decided)."""
    row = customers.get_or_create_customer(db, channel, user_id, language=lang, role=role)
    return row["id"]


def known_customers(db: ShopDb) -> list[str]:
    """The names the seller has called her customers by (the NLU hears a name as one of them by its sound)."""
    return customers.spoken_names(db, limit=KNOWN_CUSTOMERS)


def display_name(db: ShopDb, customer_id: int | None) -> str | None:
    """What the seller calls this customer: the display name, else the first alias she gave."""
    if customer_id is None:
        return None
    row = customers.get_customer(db, customer_id)
    if row and row.get("display_name"):
        return row["display_name"]
    names = customers.aliases(db, customer_id)
    return names[0] if names else None


def last_action(db: ShopDb, actor: int) -> Row | None:
    """The actor's newest action that undo would reverse (``id``, ``kind``, ``data``), or None."""
    return actions.last_action(db, actor)


def last_action_id(db: ShopDb, actor: int) -> int | None:
    last = actions.last_action(db, actor)
    return last["id"] if last else None


def stock_of(db: ShopDb, product_id: int | None) -> int | None:
    row = catalog.get_product(db, product_id) if product_id is not None else None
    return row["stock"] if row else None


def open_order_for_name(shop: Shop, spoken: str, statuses: tuple[str, ...]) -> Row | None:
    """The newest order in ``statuses`` of a customer with this spoken name, or None."""
    for c in customers.find_by_alias(shop.db, spoken):
        found = [o for o in orders.list_orders(shop.db, customer_id=c["id"]) if o["status"] in statuses]
        if found:
            return found[0]
    return None


def buyer_address(db: ShopDb, customer_id: int | None) -> tuple[str, str, str | None] | None:
    """(channel, channel user id, language) to send a buyer a message, or None (a name she only said)."""
    row = customers.get_customer(db, customer_id) if customer_id is not None else None
    if row is None or row["channel"] == customers.SPOKEN_CHANNEL or row["unsubscribed"]:
        return None
    return row["channel"], row["channel_user_id"], row["language"]


OPEN_STATUSES = orders.OPEN_STATUSES


def open_orders(db: ShopDb) -> list[Row]:
    """Orders not shipped yet (pending or confirmed), newest first."""
    return [o for o in orders.list_orders(db) if o["status"] in orders.OPEN_STATUSES]


def open_order(db: ShopDb, order_id: int) -> Row | None:
    order = orders.get_order(db, order_id)
    return order if order and order["status"] in orders.OPEN_STATUSES else None


def action_order_number(data: Row) -> int:
    """The shop's order number an action's data is about. Actions recorded before schema v11 carry only
    ``order_id``; those orders are all shop 1's, numbered by their id, so the id is their number."""
    return data.get("number") or data["order_id"]


def recent_orders(db: ShopDb, customer_id: int, limit: int = 10) -> list[Row]:
    """A buyer's orders that are still on their way (not cancelled, not done), newest first."""
    found = orders.list_orders(db, customer_id=customer_id, limit=limit * 2)
    return [o for o in found if o["status"] not in ("cancelled", "done")][:limit]


def latest_order(db: ShopDb, customer_id: int) -> Row | None:
    found = orders.list_orders(db, customer_id=customer_id, limit=1)
    return found[0] if found else None


def orders_today(shop: Shop) -> list[Row]:
    """Today's orders (shop time zone), newest first, cancelled ones left out."""
    return [o for o in shop.list_orders(today=True) if o["status"] != "cancelled"]


def sales(shop: Shop, period: str, now: datetime | None = None) -> Row:
    """Confirmed sales in the period (a buyer's order waiting for the seller is not a sale yet), and how
    many buyers' orders are still waiting."""

    if period == "yesterday":  # the whole of yesterday, not today under yesterday's name
        start, end = period_bounds("today", shop.config.shop.timezone, now)
        start, end = start - timedelta(days=1), start
    else:
        period = period if period in ("today", "week", "month") else "today"
        start, end = period_bounds(period, shop.config.shop.timezone, now)
    bounds = (to_iso(start), to_iso(end))
    count, revenue = shop.db.execute(
        "SELECT count(*), coalesce(sum(total_fen), 0) FROM orders"
        f" WHERE shop_id = ? AND status IN {SALE_SQL} AND created_at >= ? AND created_at < ?",
        (shop.shop_id, *bounds),
    ).fetchone()
    waiting, first = shop.db.execute(
        "SELECT count(*), min(number) FROM orders WHERE shop_id = ? AND status = 'pending'", (shop.shop_id,)
    ).fetchone()
    return {"count": count, "revenue_fen": revenue, "waiting": waiting, "first_waiting": first}  # a number


def sellers(db: ShopDb, config: Config, channel: str) -> list[tuple[str, str, str]]:
    """(channel, channel user id, language) of every seller who can hear a voice message."""
    out: dict[tuple[str, str], str] = {}
    for row in customers.list_customers(db, role="seller"):
        if row["channel"] != customers.SPOKEN_CHANNEL and not row["unsubscribed"]:
            out[(row["channel"], row["channel_user_id"])] = row["language"] or config.shop.language
    for user_id in config.shop.sellers:
        out.setdefault((SELLERS_CHANNEL, user_id), config.shop.language)
    return [(ch, uid, lang) for (ch, uid), lang in out.items()]


def money(price: float | int | str | Decimal) -> str:
    """A spoken price for the shop's ``to_fen`` (a string keeps 99.99 exact)."""
    return str(price)


def amount(quantity: float | Decimal | None) -> int | float:
    """A spoken quantity as the shop stores it (150, 1.5); ``InvalidValue`` for none or more than three
    decimals. Whether a fraction is allowed (斤 yes, 条 no) the dialogue decides before."""
    if quantity is None:
        raise InvalidValue("no quantity")
    return shop_quantity.clean(quantity)


def exact_amount(quantity: float | Decimal | None) -> Decimal:
    return shop_quantity.exact(amount(quantity))


def is_whole(quantity: float | Decimal | None) -> bool:
    return shop_quantity.is_whole(quantity)


def line_fen(quantity: float | Decimal, unit_price_fen: int) -> int:
    """What a quantity at a unit price comes to, in fen."""
    return shop_quantity.line_fen(quantity, unit_price_fen)
