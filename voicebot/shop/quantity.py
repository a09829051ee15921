"""Quantities of stock and of order lines: whole for goods counted in pieces, decimals (to the thousandth)
for goods sold by weight (半斤, 一斤半, 2.25 公斤).

They live in the INTEGER columns ``products.stock`` and ``order_items.quantity``, so every existing
database reads as before: SQLite keeps a whole value as an integer, and a fraction as the nearest double
to its three-place decimal. Every write rounds in SQL (``round(stock - ?, 3)``, :data:`SQL_PLACES`), so
sums never drift (0.1 + 0.2 is stored as 0.3, the same value as a typed 0.3) and :func:`exact` reads back
the decimal that was said. Values leave the shop as an ``int`` when whole, else a ``float`` with at most
three places, so JSON shows ``150`` and ``1.5`` and never ``0.30000000000000004``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from voicebot.shop.errors import InvalidValue

PLACES = 3
MAX_QUANTITY = 1_000_000_000  # far inside SQLite's integers, even times the largest price in fen
SQL_PLACES = PLACES  # the second argument of round() in every SQL statement that changes a quantity
_STEP = Decimal(1).scaleb(-PLACES)

Quantity = int | float | Decimal | str


def exact(value: Quantity) -> Decimal:
    """The decimal a stored or spoken quantity means (a float through its shortest repr, so 0.3 is 0.3)."""
    if isinstance(value, bool):
        raise InvalidValue(f"a quantity must be a number, got {value!r}")
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(f"a quantity must be a number, got {value!r}") from None
    if not d.is_finite():
        raise InvalidValue(f"a quantity must be a finite number, got {value!r}")
    return d


def clean(value: Quantity, what: str = "quantity") -> int | float:
    """``value`` as stored: an int when whole, else a float; more than three decimals is ``InvalidValue``."""
    d = exact(value)
    if abs(d) > MAX_QUANTITY:  # a 30-digit stock would overflow SQLite: a clear error, not a 500
        raise InvalidValue(f"{what} can be at most {MAX_QUANTITY}, not {str(value)[:40]}")
    if d != d.quantize(_STEP):
        raise InvalidValue(f"{what} {value!r} has more than {PLACES} decimals")
    return tidy(d)


def tidy(value: Quantity | None) -> int | float:
    """A quantity read from the database (or a sum of them) as it is shown: int when whole, else rounded
    to three places."""
    if value is None:
        return 0
    d = exact(value).quantize(_STEP)
    return int(d) if d == d.to_integral_value() else float(d)


def is_whole(value: Quantity | None) -> bool:
    return value is not None and exact(value) == exact(value).to_integral_value()


def line_fen(quantity: Quantity, unit_price_fen: int) -> int:
    """What ``quantity`` at ``unit_price_fen`` comes to, rounded half up to the fen (1.5 斤 × ¥33.33)."""
    amount = exact(quantity) * unit_price_fen
    return int(amount.to_integral_value(rounding="ROUND_HALF_UP"))

