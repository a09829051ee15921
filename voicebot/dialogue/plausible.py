"""Plausibility of a shop change (issues 18/19): an amount far from what the shop holds is read back first,
whatever the confidence or the channel. Whisper hears 两百五 as "2005" and 两斤 as 两千斤 with confidence
above the read-back threshold; a wrong change to her shop is worse than a question."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from voicebot.config import DialogueConfig

PRICE_KINDS = frozenset({"set_price", "price_up", "price_down", "add_product", "update_product"})
QUANTITY_KINDS = frozenset(
    {"add_stock", "set_stock", "reduce_stock", "record_sale", "place_order", "add_product", "update_product"}
)


def far_price(new: Decimal | float, old: Decimal | float | None, cfg: DialogueConfig) -> bool:
    """A new price more than ``far_price_ratio`` times the old one (or below its share), or one that reaches
    the thousands where the old one did not (¥250 heard as ¥2005 on a ¥800 bracelet)."""
    new, old = float(new), float(old or 0)
    if old > 0 and cfg.far_price_ratio > 0 and (new > old * cfg.far_price_ratio or new * cfg.far_price_ratio < old):
        return True
    return into_thousands(new, old, cfg)


def far_quantity(quantity: float, stock: float | None, cfg: DialogueConfig) -> bool:
    """A quantity sold, ordered, added or set that dwarfs the stock (≥ ``far_quantity_ratio`` × it and at
    least ``far_quantity_min`` units), or one in the thousands where the stock is not (两斤 heard as 两千斤)."""
    quantity, stock = float(quantity), float(stock or 0)
    ratio, floor = cfg.far_quantity_ratio, cfg.far_quantity_min
    if stock > 0 and ratio > 0 and quantity >= floor and quantity >= stock * ratio:
        return True
    return into_thousands(quantity, stock, cfg)


def into_thousands(amount: float, reference: float, cfg: DialogueConfig) -> bool:
    """The amount is in the thousands (``thousands_from``) and the shop's figure is not: a nearby reading
    (两百五 → 2005, 两斤 → 两千斤) is likelier than a tenfold jump."""
    limit = cfg.thousands_from
    return limit > 0 and amount >= limit and reference < limit


def odd_written_price(price: float | Decimal | None, *texts: str) -> bool:
    """A price of a hundred or more, not a whole ten, that the recogniser wrote in Arabic digits: said aloud,
    such a price is a round figure (一百二, 两百五, 三百八) far more often than not, and Whisper writes 一百二
    as "122". Heard this way the price is read back, never set silently."""
    if price is None or price < 100 or price != int(price) or int(price) % 10 == 0:
        return False
    digits = re.compile(rf"(?<![\d.]){int(price)}(?![\d.])")
    return any(digits.search(unicodedata.normalize("NFKC", t)) for t in texts)
