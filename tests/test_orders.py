"""Orders: stock taken atomically, "only N left", cancel returns stock, legal status moves only."""

from __future__ import annotations

import pytest

from voicebot.config import load_config
from voicebot.shop import IllegalTransition, OrderLine, OrderNotFound, OutOfStock, Shop


@pytest.fixture
def shop(tmp_path):
    s = Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}}))
    s.add_product("手链", 200, 5, "条")
    s.add_product("蜂蜜", 30, 2, "瓶")
    yield s
    s.close()


def test_buyer_order_takes_stock_and_keeps_unit_price(shop):
    buyer = shop.customer("wechat", "buyer-1", display_name="Li")
    order = shop.place_order("手链", 2, buyer["id"])
    assert order["status"] == "pending" and order["created_by"] == "buyer"
    assert order["customer_id"] == buyer["id"] and order["total_fen"] == 40000
    assert [(i["name"], i["quantity"], i["unit_price_fen"]) for i in order["items"]] == [("手链", 2, 20000)]
    assert shop.product("手链")["stock"] == 3
    shop.set_price("手链", 250)
    assert shop.get_order(order["id"])["items"][0]["unit_price_fen"] == 20000


def test_short_stock_fails_cleanly_with_only_n_left(shop):
    with pytest.raises(OutOfStock, match="^only 2 left$") as info:
        shop.create_order([OrderLine("手链", 1), OrderLine("蜂蜜", 3)], created_by="buyer")
    assert (info.value.product, info.value.available, info.value.requested) == ("蜂蜜", 2, 3)
    # nothing written: the first line's stock came back with the rollback
    assert shop.product("手链")["stock"] == 5
    assert shop.list_orders() == []


def test_seller_sale_to_a_spoken_name_then_ship_by_name(shop):
    sale = shop.record_sale("蜂蜜", 2, customer="张三", price="25")
    assert sale["status"] == "confirmed" and sale["total_fen"] == 5000 and sale["customer_name"] == "张三"
    again = shop.record_sale("手链", 1, customer="张三")
    assert again["customer_id"] == sale["customer_id"]  # the alias links to the same customer
    shipped = shop.ship_latest("张三")
    assert shipped["id"] == again["id"] and shipped["status"] == "shipped"
    assert shop.ship_latest("张三")["id"] == sale["id"]
    with pytest.raises(OrderNotFound):
        shop.ship_latest("张三")
    with pytest.raises(OrderNotFound):
        shop.ship_latest("王五")


def test_cancel_returns_stock_and_illegal_moves_are_rejected(shop):
    order = shop.place_order("手链", 3, shop.customer("wechat", "b")["id"])
    assert shop.cancel_order(order["id"])["status"] == "cancelled"
    assert shop.product("手链")["stock"] == 5
    for status in ("confirmed", "shipped", "pending", "cancelled"):
        with pytest.raises(IllegalTransition):
            shop.set_order_status(order["id"], status)
    o2 = shop.place_order("手链", 1, shop.customer("wechat", "b")["id"])
    assert shop.set_order_status(o2["id"], "confirmed")["status"] == "confirmed"
    assert shop.ship_order(o2["id"])["status"] == "shipped"
    with pytest.raises(IllegalTransition, match="shipped; it cannot become cancelled"):
        shop.cancel_order(o2["id"])
    assert shop.set_order_status(o2["id"], "done")["status"] == "done"
    with pytest.raises(OrderNotFound):
        shop.ship_order(999)
    assert [o["status"] for o in shop.list_orders()] == ["done", "cancelled"]
    assert [o["id"] for o in shop.list_orders(status="done")] == [o2["id"]]
