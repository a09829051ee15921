"""Money as integer fen (1 yuan = 100 fen), converted through Decimal so 1.5 and 99.99 stay exact."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_CURRENCY_MARKS = "¥￥$元块"


def to_fen(amount: str | int | float | Decimal) -> int:
    """Yuan (or dollars) to integer fen: ``1.5 -> 150``, ``"99.99" -> 9999``, ``1200 -> 120000``.

    Floats go through their shortest ``repr`` so ``99.99`` is 9999, not 9998. Sub-fen amounts
    round half up. Negative, non-finite or non-numeric amounts raise ``ValueError``.
    """
    if isinstance(amount, bool):
        raise ValueError(f"not a price: {amount!r}")
    if isinstance(amount, float):
        value = Decimal(repr(amount))
    elif isinstance(amount, int | Decimal):
        value = Decimal(amount)
    elif isinstance(amount, str):
        text = amount.strip().strip(_CURRENCY_MARKS).strip().replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a price: {amount!r}") from None
    else:
        raise ValueError(f"not a price: {amount!r}")
    if not value.is_finite():
        raise ValueError(f"not a price: {amount!r}")
    if value < 0:
        raise ValueError(f"a price cannot be negative: {amount!r}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen to an exact Decimal of yuan: ``150 -> Decimal("1.50")``."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def yuan_number(fen: int) -> int | float:
    """Fen as a JSON-friendly number of yuan: ``20000 -> 200``, ``150 -> 1.5``, ``9999 -> 99.99``."""
    return fen // 100 if fen % 100 == 0 else float(fen_to_yuan(fen))


def format_yuan(fen: int) -> str:
    """Fen for display: ``150 -> "1.50"``, ``20000 -> "200"``."""
    return str(fen // 100) if fen % 100 == 0 else str(fen_to_yuan(fen))
