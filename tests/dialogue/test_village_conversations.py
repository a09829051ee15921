"""Conversations in two shops of one village: each turn changes only its own shop (checked after every turn)."""

from __future__ import annotations

import pytest

from voicebot.config import load_config
from voicebot.dialogue import handle_turn
from voicebot.shop import shops
from voicebot.shop.facade import Shop

T0 = 1_800_000_000


@pytest.fixture
def village(tmp_path):
    config = load_config(environ={}, overrides={"server": {"data_dir": str(tmp_path)},
                                                "shop": {"name": "郭姐绿松石", "sellers": ["o-guo"]}})
    with Shop.open(config) as guo:
        feng_row = shops.add_shop(guo.village, "老冯蜂蜜", code="feng")
        feng = guo.other(feng_row["id"])
        feng.add_seller("o-feng")
        bee_row = shops.add_shop(guo.village, "Bee Farm", code="bee", language="en")
        bee = guo.other(bee_row["id"])
        bee.add_seller("o-bee")
        yield guo, feng, bee


def _state(shop: Shop) -> dict:
    return {
        "products": {p["name"]: (p["price_fen"] // 100, p["stock"]) for p in shop.list_products()},
        "orders": sorted((o["status"], o["total_fen"] // 100, o.get("customer_name") or o.get("customer_user"))
                         for o in shop.list_orders()),
    }


class Talk:
    """Turns in one shop, by whoever speaks; role as the pipeline decides it (a seller of THAT shop or not)."""

    def __init__(self, shop: Shop) -> None:
        self.shop, self.t = shop, T0

    def __call__(self, user: str, text: str):
        self.t += 10
        shop = self.shop.other(self.shop.shop_id)  # settings as they are now
        role = "seller" if shop.is_seller("wechat", user) else "buyer"
        return handle_turn(shop.db, shop.config, channel="wechat", user_id=user, role=role,
                           lang=shop.config.shop.language, text=text, confidence=None, now=self.t)


def test_two_shops_selling_the_same_honey_by_voice(village):
    guo, feng, _ = village
    at_guo, at_feng = Talk(guo), Talk(feng)

    turns = [
        (at_guo, "o-guo", "上架土蜂蜜，五十块一斤，二十斤",
         {"products": {"土蜂蜜": (50, 20)}, "orders": []}, {"products": {}, "orders": []}),
        (at_feng, "o-feng", "上架土蜂蜜，八十块一斤，十斤",
         {"products": {"土蜂蜜": (50, 20)}, "orders": []}, {"products": {"土蜂蜜": (80, 10)}, "orders": []}),
        (at_feng, "o-li", "我要三斤土蜂蜜",  # one buyer, Li, in Feng's shop
         {"products": {"土蜂蜜": (50, 20)}, "orders": []},
         {"products": {"土蜂蜜": (80, 7)}, "orders": [("pending", 240, "o-li")]}),
        (at_guo, "o-li", "我要两斤土蜂蜜",  # the same Li in Guo's shop: her own order there
         {"products": {"土蜂蜜": (50, 18)}, "orders": [("pending", 100, "o-li")]},
         {"products": {"土蜂蜜": (80, 7)}, "orders": [("pending", 240, "o-li")]}),
        (at_guo, "o-guo", "卖了五斤蜂蜜给张三",
         {"products": {"土蜂蜜": (50, 13)}, "orders": sorted([("pending", 100, "o-li"), ("confirmed", 250, "张三")])},
         {"products": {"土蜂蜜": (80, 7)}, "orders": [("pending", 240, "o-li")]}),
        (at_feng, "o-guo", "上架绿松石手链，两百块，十条",  # Guo is not Feng's seller: nothing changes there
         {"products": {"土蜂蜜": (50, 13)}, "orders": sorted([("pending", 100, "o-li"), ("confirmed", 250, "张三")])},
         {"products": {"土蜂蜜": (80, 7)}, "orders": [("pending", 240, "o-li")]}),
        (at_feng, "o-feng", "蜂蜜进货五斤",
         {"products": {"土蜂蜜": (50, 13)}, "orders": sorted([("pending", 100, "o-li"), ("confirmed", 250, "张三")])},
         {"products": {"土蜂蜜": (80, 12)}, "orders": [("pending", 240, "o-li")]}),
        (at_feng, "o-feng", "撤销",  # Feng's undo takes back Feng's last change only
         {"products": {"土蜂蜜": (50, 13)}, "orders": sorted([("pending", 100, "o-li"), ("confirmed", 250, "张三")])},
         {"products": {"土蜂蜜": (80, 7)}, "orders": [("pending", 240, "o-li")]}),
        (at_guo, "o-guo", "撤销",  # Guo's undo takes back her sale to 张三, in her shop only
         {"products": {"土蜂蜜": (50, 18)}, "orders": [("pending", 100, "o-li")]},
         {"products": {"土蜂蜜": (80, 7)}, "orders": [("pending", 240, "o-li")]}),
    ]
    for n, (talk, user, text, want_guo, want_feng) in enumerate(turns):
        r = talk(user, text)
        if r.awaiting == "confirm":  # a read-back: she says yes, as she would
            r = talk(user, "对")
        assert _state(guo) == want_guo, (n, text, r.reply)
        assert _state(feng) == want_feng, (n, text, r.reply)
    assert "手链" not in str(_state(feng)) and "手链" not in str(_state(guo))


def test_today_counts_only_her_own_shop_and_notices_go_to_her_own_sellers(village):
    guo, feng, _ = village
    at_guo, at_feng = Talk(guo), Talk(feng)
    at_guo("o-guo", "上架绿松石手链，两百块，十条")
    at_feng("o-feng", "上架土蜂蜜，八十块一斤，十斤")
    at_feng("o-feng", "卖了两斤蜂蜜")
    r = at_feng("o-li", "我要一斤土蜂蜜")
    assert {who for _, who, _ in r.notify} == {"o-feng"}  # Feng hears of Li's order; Guo does not
    assert at_guo("o-guo", "今天卖了多少").reply.count("一百六") == 0  # Feng's ¥160 is not Guo's
    feng_today = at_feng("o-feng", "今天卖了多少").reply
    assert "一百六" in feng_today, feng_today
    assert guo.report("today")["orders"] == 0 and feng.report("today")["orders"] == 1


def test_an_english_shop_in_the_same_village(village):
    guo, _, bee = village
    at_bee = Talk(bee)
    assert bee.config.shop.language == "en"
    r = at_bee("o-bee", "add honey, 12 yuan a jar, 30 jars")
    if r.awaiting == "confirm":
        r = at_bee("o-bee", "yes")
    assert _state(bee)["products"] == {"honey": (12, 30)} and _state(guo)["products"] == {}, r.reply
    r = at_bee("o-tom", "I want 2 jars of honey")
    assert _state(bee)["products"] == {"honey": (12, 28)}, r.reply
    assert _state(bee)["orders"] == [("pending", 24, "o-tom")]
    r = at_bee("o-tom", "what do you sell")
    assert "honey" in r.reply.lower() and "蜂蜜" not in r.reply
    assert _state(guo) == {"products": {}, "orders": []}
