"""Undo of each action type restores the exact previous rows (timestamps included)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from voicebot.config import load_config
from voicebot.shop import NothingToUndo, Shop

# photos is left out on purpose: a stored photo row stays (content-addressed, may be shared).
SHOP_TABLES = ("products", "orders", "order_items", "product_photos", "customers", "customer_aliases")


@pytest.fixture
def shop(tmp_path):
    s = Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}}))
    yield s
    s.close()


def snapshot(shop: Shop) -> dict[str, list[dict]]:
    return {t: sorted(shop.village.query(f"SELECT * FROM {t}"), key=repr) for t in SHOP_TABLES}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def seller(shop):
    seller = shop.add_seller("seller-1")
    shop.add_product("手链", 200, 5, "条", actor=seller["id"])
    shop.add_product("蜂蜜", 30, 9, "瓶", actor=seller["id"])
    shop.record_sale("蜂蜜", 1, customer="张三", actor=seller["id"])  # 张三 exists before the tested action
    return seller["id"]


ACTIONS = {
    "add_product": lambda s, a: s.add_product("项链", 99.99, 3, "条", actor=a),
    "set_price": lambda s, a: s.set_price("手链", 1.5, actor=a),
    "add_stock": lambda s, a: s.adjust_stock("手链", +4, actor=a),
    "take_stock": lambda s, a: s.adjust_stock("手链", -5, actor=a),
    "remove_product": lambda s, a: s.remove_product("手链", actor=a),
    "attach_photo": lambda s, a: s.add_photo("手链", _jpeg(), actor=a),
    "sale": lambda s, a: s.record_sale("手链", 2, customer="张三", price=180, actor=a),
    "ship": lambda s, a: s.ship_latest("张三", actor=a),
    "cancel": lambda s, a: s.cancel_order(s.list_orders()[0]["id"], actor=a),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_undo_restores_exact_previous_state(shop, seller, name):
    before = snapshot(shop)
    ACTIONS[name](shop, seller)
    assert snapshot(shop) != before
    result = shop.undo(seller)
    assert result.description
    assert snapshot(shop) == before


def test_undo_goes_back_one_action_at_a_time_and_only_for_the_actor(shop, seller):
    other = shop.customer("wechat", "buyer")["id"]
    shop.set_price("手链", 250, actor=seller)
    shop.adjust_stock("手链", 3, actor=seller)
    shop.place_order("蜂蜜", 1, other)  # the buyer's change is not the seller's to undo
    assert shop.undo(seller).kind == "adjust_stock"
    assert shop.product("手链")["stock"] == 5
    assert shop.undo(seller).kind == "set_price"
    assert shop.product("手链")["price_fen"] == 20000
    assert shop.product("蜂蜜")["stock"] == 7
    assert shop.undo(other).kind == "create_order"
    assert shop.product("蜂蜜")["stock"] == 8
    with pytest.raises(NothingToUndo):
        shop.undo(other)


def test_undoing_a_stock_change_that_was_already_sold_is_refused(shop, seller):
    from voicebot.shop import UndoConflict

    shop.adjust_stock("手链", 2, actor=seller)
    shop.place_order("手链", 7, shop.customer("wechat", "b")["id"])
    with pytest.raises(UndoConflict, match="only 0"):
        shop.undo(seller)
    assert shop.product("手链")["stock"] == 0
