"""Money is integer fen; yuan amounts as spoken round-trip exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voicebot.config import load_config
from voicebot.shop import Shop, fen_to_yuan, format_yuan, to_fen, yuan_number


@pytest.mark.parametrize(
    ("amount", "fen"),
    [(1.5, 150), (99.99, 9999), (1200, 120000), ("0.01", 1), ("99.99", 9999), (Decimal("2.5"), 250),
     (0.1 + 0.2, 30), ("¥18", 1800), (" 200元 ", 20000), ("1,200", 120000), (0, 0)],
)  # fmt: skip
def test_to_fen_is_exact(amount, fen):
    assert to_fen(amount) == fen


@pytest.mark.parametrize("bad", [-1, "-0.5", "abc", "", float("nan"), float("inf"), True, None])
def test_to_fen_rejects_non_prices(bad):
    with pytest.raises(ValueError):
        to_fen(bad)


def test_yuan_forms():
    assert fen_to_yuan(150) == Decimal("1.50")
    assert yuan_number(20000) == 200 and isinstance(yuan_number(20000), int)
    assert yuan_number(9999) == 99.99
    assert format_yuan(150) == "1.50" and format_yuan(120000) == "1200"


@pytest.mark.parametrize(("price", "fen"), [(1.5, 150), (99.99, 9999), (1200, 120000), ("0.01", 1)])
def test_prices_round_trip_through_the_database(tmp_path, price, fen):
    with Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}})) as shop:
        shop.add_product("蜂蜜", price, 3)
        order = shop.record_sale("蜂蜜", 3)
    with Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}})) as shop:
        product = shop.product("蜂蜜")
        assert product["price_fen"] == fen
        assert fen_to_yuan(product["price_fen"]) == Decimal(str(price)).quantize(Decimal("0.01"))
        assert shop.get_order(order["id"])["total_fen"] == 3 * fen
