"""Money as integer fen (1 yuan = 100 fen), converted through Decimal so 1.5 and 99.99 stay exact."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from voicebot.shop.errors import InvalidValue

_CURRENCY_MARKS = "¥￥$元块"
MAX_YUAN = 1_000_000  # no price or sale total in a village shop comes near; far inside SQLite's integers
_FEN = Decimal("0.01")


class MoneyError(InvalidValue, ValueError):
    """An amount that is not a price: not a number, below 0, finer than a fen, or above ``MAX_YUAN``."""

    code = "invalid_price"


def to_fen(amount: str | int | float | Decimal) -> int:
    """The one way money enters the shop (CLI, console, web chat and dialogue): yuan to integer fen.

    ``1.5 -> 150``, ``"99.99" -> 9999``, ``"¥1,200" -> 120000``. Exact: floats go through their
    shortest ``repr`` (``99.99`` is 9999, not 9998; arithmetic noise within 1e-9 of a fen is dropped)
    and an amount finer than a fen (``0.001``) is refused, never rounded (it would make a product free). Negative, non-finite, non-numeric or
    larger than ``MAX_YUAN`` amounts raise :class:`MoneyError` with a message for a person.
    """
    if isinstance(amount, bool):
        raise MoneyError(f"not a price: {amount!r}")
    if isinstance(amount, float):
        value = Decimal(repr(amount))
    elif isinstance(amount, int | Decimal):
        value = Decimal(amount)
    elif isinstance(amount, str):
        text = amount.strip().strip(_CURRENCY_MARKS).strip().replace(",", "")
        if len(text) > 40:  # no price needs more; keeps Decimal from parsing megabytes of digits
            raise MoneyError(f"not a price: {amount[:40]!r}…")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"not a price: {amount!r}") from None
    else:
        raise MoneyError(f"not a price: {amount!r}")
    if not value.is_finite():
        raise MoneyError(f"not a price: {amount!r}")
    if value < 0:
        raise MoneyError(f"a price cannot be negative: {amount!r}")
    if value > MAX_YUAN:
        raise MoneyError(f"a price can be at most {MAX_YUAN} yuan, not {amount!r}")
    if isinstance(amount, float) and abs(value - value.quantize(_FEN)) < Decimal("1e-9"):
        value = value.quantize(_FEN)  # float noise (0.1 + 0.2), not a sub-fen price
    if value != value.quantize(_FEN):
        raise MoneyError(f"a price has at most 2 decimals (fen), not {amount!r}")
    return int(value.quantize(_FEN) * 100)


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen to an exact Decimal of yuan: ``150 -> Decimal("1.50")``."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def yuan_number(fen: int) -> int | float:
    """Fen as a JSON-friendly number of yuan: ``20000 -> 200``, ``150 -> 1.5``, ``9999 -> 99.99``."""
    return fen // 100 if fen % 100 == 0 else float(fen_to_yuan(fen))


def format_yuan(fen: int) -> str:
    """Fen for display: ``150 -> "1.50"``, ``20000 -> "200"``."""
    return str(fen // 100) if fen % 100 == 0 else str(fen_to_yuan(fen))
