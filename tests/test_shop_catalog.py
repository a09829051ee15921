"""The catalog: unique active names, prices, stock that never goes negative, removal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voicebot.config import load_config
from voicebot.shop import DuplicateProduct, InvalidValue, NegativeStock, ProductNotFound, Shop
from voicebot.store.errors import IntegrityError


@pytest.fixture
def shop(tmp_path):
    s = Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}}))
    yield s
    s.close()


def test_add_and_find_product(shop):
    p = shop.add_product("  绿松石  手链 ", 200, 10, "条")
    assert (p["name"], p["unit"], p["price_fen"], p["stock"], p["active"]) == (
        "绿松石 手链",
        "条",
        20000,
        10,
        1,
    )
    assert p["created_at"].endswith("Z") and p["created_at"] == p["updated_at"]
    assert shop.product("绿松石 手链")["id"] == p["id"]
    assert shop.product(p["id"])["name"] == "绿松石 手链"
    assert shop.product_names() == ["绿松石 手链"]


def test_names_unique_among_active_products_only(shop):
    shop.add_product("Honey", 30, 1)
    with pytest.raises(DuplicateProduct):
        shop.add_product("honey", 40)  # case-insensitive for Latin letters
    shop.remove_product("Honey")
    again = shop.add_product("honey", 40)
    assert shop.find_product("HONEY")["id"] == again["id"]
    assert [p["active"] for p in shop.list_products(active_only=False)] == [0, 1]
    with pytest.raises(IntegrityError):  # the database itself guards it too
        shop.village.execute("UPDATE products SET active = 1 WHERE shop_id = ?", (shop.shop_id,))


def test_stock_never_negative(shop):
    shop.add_product("耳环", 50, 2, "对")
    assert shop.adjust_stock("耳环", +5)["stock"] == 7
    assert shop.adjust_stock("耳环", -7)["stock"] == 0
    with pytest.raises(NegativeStock, match="only 0 left"):
        shop.adjust_stock("耳环", -1)
    with pytest.raises(IntegrityError):
        shop.village.execute("UPDATE products SET stock = -1")
    assert shop.product("耳环")["stock"] == 0


def test_price_changes_and_bad_values(shop):
    shop.add_product("项链", 300, 1)
    p = shop.set_price("项链", "180")
    assert p["price_fen"] == 18000 and p["updated_at"] > p["created_at"]
    with pytest.raises(ValueError):
        shop.set_price("项链", -5)
    with pytest.raises(InvalidValue):
        shop.add_product("   ", 1)
    with pytest.raises(InvalidValue):
        shop.adjust_stock("项链", 0)


def test_removed_products_are_not_found_for_changes(shop):
    shop.add_product("蜂蜜", 30, 5, "瓶")
    shop.remove_product("蜂蜜")
    assert shop.list_products() == [] and shop.product_names() == []
    for change in (
        lambda: shop.set_price("蜂蜜", 1),
        lambda: shop.adjust_stock("蜂蜜", 1),
        lambda: shop.record_sale("蜂蜜", 1),
    ):
        with pytest.raises(ProductNotFound):
            change()


def test_goods_sold_by_weight_keep_exact_decimal_stock(shop):
    """Issue 18 item 3: 半斤 and 0.1 斤 steps never drift (no 0.30000000000000004 in stock), and undo
    puts back exactly what was there; whole stock stays an int."""
    shop.add_product("核桃", 30, 0, "斤")
    for _ in range(3):
        shop.adjust_stock("核桃", 0.1)
    assert shop.product("核桃")["stock"] == 0.3 and repr(shop.product("核桃")["stock"]) == "0.3"
    shop.adjust_stock("核桃", Decimal("0.2"))
    assert repr(shop.product("核桃")["stock"]) == "0.5"
    shop.adjust_stock("核桃", "9.5")
    assert shop.product("核桃")["stock"] == 10 and isinstance(shop.product("核桃")["stock"], int)
    order = shop.record_sale("核桃", 1.5)
    assert (order["total_fen"], order["items"][0]["quantity"]) == (4500, 1.5)
    assert shop.product("核桃")["stock"] == 8.5
    shop.record_sale("核桃", 0.333, price="33.33")  # 0.333 × 3333 fen = 1109.889 -> 1110 fen
    assert shop.product("核桃")["stock"] == 8.167 and shop.list_orders()[0]["total_fen"] == 1110
    shop.undo(None)
    shop.undo(None)
    assert shop.product("核桃")["stock"] == 10
    report = shop.report()
    assert report["quantity"] == 0 and report["revenue_fen"] == 0
    with pytest.raises(InvalidValue):
        shop.adjust_stock("核桃", 0.0001)  # finer than a thousandth of a unit
    with pytest.raises(NegativeStock):
        shop.adjust_stock("核桃", -10.5)
    assert shop.product("核桃")["stock"] == 10
