"""Issue 19: what Whisper writes with the wrong characters never changes the shop unasked. Each test is
a conversation on a real SQLite shop; the shop is checked after every turn."""

from __future__ import annotations

import pytest

from voicebot.dialogue import handle_turn

T0 = 1_800_000_000.0


class Chat:
    def __init__(self, db, config) -> None:
        self.db, self.config, self.now = db, config, T0

    def says(self, text: str, role: str = "seller", user: str = "boss", confidence: float | None = 0.9):
        self.now += 1
        r = handle_turn(self.db, self.config, channel="wechat", user_id=user, role=role, lang="zh", text=text,
                        confidence=confidence, now=self.now)
        print(f"{role}> {text}\n  bot< {r.reply}  [{r.intent.name} awaiting={r.awaiting}]")
        return r


@pytest.fixture
def chat(db, config, shop) -> Chat:
    shop.add_product("核桃", 30, 50, "斤")
    return Chat(db, config)


def stock(shop, name: str) -> int:
    return shop.product(name)["stock"]


def test_price_question_heard_as_qian_is_answered_not_ordered(chat, shop) -> None:
    r = chat.says("核桃多少前一斤。", role="buyer", user="b1")
    assert r.intent.name == "ask_price" and "三十" in r.reply
    assert shop.list_orders() == [] and stock(shop, "核桃") == 50


def test_stock_heard_by_sound_only_is_read_back_first(chat, shop) -> None:
    r = chat.says("河桃加武晶")  # 核桃加五斤, confidently heard with the wrong characters
    assert r.awaiting == "confirm" and stock(shop, "核桃") == 50
    r = chat.says("对")
    assert stock(shop, "核桃") == 55


def test_sale_heard_as_mai_wheat_is_read_back_and_a_no_keeps_the_shop(chat, shop) -> None:
    r = chat.says("麦了两条手链")
    assert r.awaiting == "confirm" and stock(shop, "绿松石手链") == 10
    chat.says("不对")
    assert stock(shop, "绿松石手链") == 10 and shop.list_orders() == []


def test_undo_heard_as_che_xiao_asks_before_undoing(chat, shop) -> None:
    chat.says("卖了两条手链")
    assert stock(shop, "绿松石手链") == 8
    r = chat.says("车销")
    assert r.awaiting == "undo_offer" and stock(shop, "绿松石手链") == 8
    chat.says("对")
    assert stock(shop, "绿松石手链") == 10


def test_cancel_heard_as_qi_xiao_ding_dan_asks_first(chat, shop) -> None:
    chat.says("我要两瓶蜂蜜", role="buyer", user="b1")
    assert len(shop.list_orders()) == 1
    before = [o["status"] for o in shop.list_orders()]
    r = chat.says("起销定单。", role="buyer", user="b1")
    assert r.intent.name == "cancel_order" and r.awaiting
    assert [o["status"] for o in shop.list_orders()] == before


def test_what_do_you_sell_heard_as_you_mai_lists_the_catalog(chat, shop) -> None:
    r = chat.says("又什么麦的?", role="buyer", user="b1")
    assert r.intent.name == "list_products" and "蜂蜜" in r.reply
    assert shop.list_orders() == []
