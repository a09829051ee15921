"""Issue 18, the dialogue and shop half: everyday ways a seller changes her shop (set the stock, lower it,
move a price by an amount, confirm or cancel an order by number), undo and shipping heard unsure, money
said is money recorded, and buyers' orders the seller hears about once. Each test is a conversation with
the shop checked after every turn (a real SQLite shop)."""

from __future__ import annotations

import pytest
from dialogue_chat import Chat

from voicebot.shop.facade import Shop

UNSURE = 0.3  # below dialogue.confirm_below_confidence


@pytest.fixture
def zh(db, config, shop) -> Chat:
    shop.add_product("核桃", 30, 90, "斤")
    return Chat(db, config, "zh")


@pytest.fixture
def en(db, config) -> Chat:
    s = Shop(db, config)
    s.add_product("walnuts", 30, 90, "jin")
    s.add_product("honey", 30, 20, "jars")
    return Chat(db, config, "en")


def stock(shop: Shop, name: str) -> int:
    return shop.product(name)["stock"]


def price(shop: Shop, name: str) -> int:
    return shop.product(name)["price_fen"]


def statuses(shop: Shop) -> list[tuple[int, str]]:
    return sorted((o["number"], o["status"]) for o in shop.list_orders())


# --- item 6: set-stock is its own intent -----------------------------------------------------------------


def test_set_stock_sets_it_reads_it_back_and_undoes_zh(zh, shop):
    zh.seller("核桃进了五十斤，现在有一百五十斤", "好的，核桃现在有一百五十斤，原来九十斤。")
    assert stock(shop, "核桃") == 150
    zh.seller("核桃库存改成一百二十斤", "好的，核桃现在有一百二十斤，原来一百五十斤。")
    assert stock(shop, "核桃") == 120
    zh.seller("撤销", "撤销了：核桃的库存，回到一百五十斤。")
    assert stock(shop, "核桃") == 150
    zh.seller("核桃现在有一百五十斤", "核桃本来就是一百五十斤，没有改。")
    assert stock(shop, "核桃") == 150


def test_set_stock_heard_unsure_is_read_back_first_zh(zh, shop):
    zh.seller("核桃现在有八十斤", "核桃库存改成八十斤，原来九十斤，对吗？", confidence=UNSURE)
    assert stock(shop, "核桃") == 90
    zh.seller("对", "好的，核桃现在有八十斤，原来九十斤。", confidence=UNSURE)
    assert stock(shop, "核桃") == 80


def test_set_stock_en(en, db, config):
    s = Shop(db, config)
    en.seller("we now have 150 jin of walnuts", "OK, walnuts: now one hundred and fifty jin, was ninety jin.")
    assert stock(s, "walnuts") == 150
    en.seller("undo", "Undone: walnuts's stock, back to ninety jin.")
    assert stock(s, "walnuts") == 90


# --- item 18: lower stock, move a price by an amount --------------------------------------------------------


def test_goods_gone_bad_and_prices_moved_by_an_amount_zh(zh, shop):
    zh.seller("核桃坏了两斤", "好的，核桃减了两斤，还剩八十八斤。")
    assert stock(shop, "核桃") == 88
    zh.seller("蜂蜜减少两瓶", "好的，蜂蜜减了两瓶，还剩十八瓶。")
    assert stock(shop, "蜂蜜") == 18
    zh.seller("撤销", "撤销了：蜂蜜的库存，回到二十瓶。")
    assert stock(shop, "蜂蜜") == 20
    zh.seller("核桃坏了一百斤", "核桃只有八十八斤，没有改。")
    assert stock(shop, "核桃") == 88
    zh.seller("核桃便宜五块钱", "好的，核桃便宜五块，现在二十五块一斤。")
    assert price(shop, "核桃") == 2500
    zh.seller("核桃贵两块", "好的，核桃贵两块，现在二十七块一斤。")
    assert price(shop, "核桃") == 2700
    zh.seller("撤销", "撤销了：核桃的价格，回到二十五块。")
    assert price(shop, "核桃") == 2500
    zh.seller("核桃便宜五十块", "核桃现在二十五块，便宜不了这么多，没有改。")
    assert price(shop, "核桃") == 2500


def test_a_relative_change_heard_unsure_is_read_back_zh(zh, shop):
    zh.seller("核桃便宜五块钱", "核桃便宜五块，改成二十五块，对吗？", confidence=UNSURE)
    assert price(shop, "核桃") == 3000
    zh.seller("不对", "好的，没有改。", confidence=UNSURE)
    assert price(shop, "核桃") == 3000
    zh.seller("核桃坏了两斤", "核桃减少两斤，对吗？", confidence=UNSURE)
    zh.seller("对", "好的，核桃减了两斤，还剩八十八斤。", confidence=UNSURE)
    assert stock(shop, "核桃") == 88


def test_goods_gone_bad_and_prices_moved_en(en, db, config):
    s = Shop(db, config)
    en.seller("two jin of walnuts went bad", "OK, two jin of walnuts off, eighty-eight jin left.")
    assert stock(s, "walnuts") == 88
    en.seller("walnuts five yuan cheaper", "OK, walnuts is five yuan cheaper, now twenty-five yuan.")
    assert price(s, "walnuts") == 2500
    en.seller("undo", "Undone: walnuts's price, back to thirty yuan.")
    assert price(s, "walnuts") == 3000


# --- item 7: undo and shipping heard unsure ask first; a murmur is not a yes -----------------------------------


def test_undo_heard_unsure_asks_first_and_a_murmur_is_not_yes_zh(zh, shop):
    zh.seller("卖了两瓶蜂蜜", "好的，卖了两瓶蜂蜜，一共六十块，还剩十八瓶。")
    assert stock(shop, "蜂蜜") == 18
    zh.seller("撤销", "撤销卖了两瓶蜂蜜，对吗？", confidence=UNSURE)
    assert stock(shop, "蜂蜜") == 18
    zh.seller("嗯嗯", "请说“对”或者“不对”。撤销卖了两瓶蜂蜜，对吗？", confidence=UNSURE)
    assert stock(shop, "蜂蜜") == 18
    zh.seller("对", "撤销了：卖两瓶蜂蜜，库存回到二十瓶。", confidence=UNSURE)
    assert stock(shop, "蜂蜜") == 20 and shop.list_orders() == []


def test_undo_heard_unsure_and_denied_keeps_everything_zh(zh, shop):
    zh.seller("核桃进货十斤")
    assert stock(shop, "核桃") == 100
    zh.seller("撤销", "撤销核桃进货十斤，对吗？", confidence=UNSURE)
    zh.seller("不对", "好的，没有改。", confidence=UNSURE)
    assert stock(shop, "核桃") == 100


def test_shipping_heard_unsure_asks_first_and_the_buyer_hears_it_zh(zh, shop):
    zh.buyer("我要两瓶蜂蜜")
    r = zh.seller("一号订单发货了", "一号订单发货了，对吗？", confidence=UNSURE)
    assert statuses(shop) == [(1, "pending")] and r.notify == []
    r = zh.seller("嗯嗯", "请说“对”或者“不对”。一号订单发货了，对吗？", confidence=UNSURE)
    assert statuses(shop) == [(1, "pending")]
    r = zh.seller("对", "好的，一号订单发货了：蜂蜜两瓶。", confidence=UNSURE)
    assert statuses(shop) == [(1, "shipped")]
    assert r.notify == [("wechat", "b1", "你的一号订单发货了：蜂蜜两瓶。")]


def test_undo_and_shipping_heard_unsure_en(en, db, config):
    s = Shop(db, config)
    en.seller("sold two jars of honey")
    assert stock(s, "honey") == 18
    en.seller("undo", "Undo sold two jars of honey. Is that right?", confidence=UNSURE)
    en.seller("uh huh", "Please say yes or no. Undo sold two jars of honey. Is that right?", confidence=UNSURE)
    assert stock(s, "honey") == 18
    en.seller("yes", confidence=UNSURE)
    assert stock(s, "honey") == 20
    en.buyer("i want two jars of honey")
    en.seller("order one shipped", "Order one shipped. Is that right?", confidence=UNSURE)
    assert statuses(s) == [(1, "pending")]  # the undone sale's number is free again
    r = en.seller("yes", "OK, order one shipped: two jars of honey.", confidence=UNSURE)
    assert statuses(s) == [(1, "shipped")]
    assert r.notify == [("wechat", "b1", "Your order one has shipped: two jars of honey.")]


# --- item 8: money said is money recorded --------------------------------------------------------------------


def test_a_total_said_is_the_total_stored_zh(zh, shop):
    zh.seller("卖了三斤核桃一共一百块", "好的，卖了三斤核桃，一共一百块，还剩八十七斤。")
    order = shop.list_orders()[0]
    assert order["total_fen"] == 10000 and order["items"][0]["unit_price_fen"] == 3333
    assert shop.report()["revenue_fen"] == 10000 and shop.report()["products"][0]["revenue_fen"] == 10000
    assert stock(shop, "核桃") == 87


def test_a_total_said_is_the_total_stored_en(en, db, config):
    s = Shop(db, config)
    en.seller("sold three jin of walnuts for one hundred in total",
              "OK, sold three jin of walnuts, total one hundred yuan, eighty-seven jin left.")  # fmt: skip
    assert s.list_orders()[0]["total_fen"] == 10000 and s.report()["revenue_fen"] == 10000


# --- items 9, 12: confirm and cancel by number; a shipped order is not "no order" -------------------------------


def test_confirm_and_cancel_orders_by_number_zh(zh, shop):
    zh.buyer("我要两瓶蜂蜜", user="b1")
    zh.buyer("我要一对耳环", user="b2")
    assert statuses(shop) == [(1, "pending"), (2, "pending")]
    zh.seller("今天卖了多少钱", "今天还没有卖出。两单等你确认，说“一号订单确认”。")
    r = zh.seller("二号订单确认", "好的，二号订单确认了：绿松石耳环一对。")
    assert statuses(shop) == [(1, "pending"), (2, "confirmed")]
    assert r.notify == [("wechat", "b2", "老板确认了你的二号订单：绿松石耳环一对。")]
    zh.seller("今天卖了多少钱", "今天卖了一单，一共一百二十块。一单等你确认，说“一号订单确认”。")
    zh.seller("二号订单确认", "二号订单老板确认了。")
    zh.seller("五号订单确认", "没有五号订单。")
    zh.seller("一号订单取消", "取消一号订单：蜂蜜两瓶，对吗？")
    assert statuses(shop) == [(1, "pending"), (2, "confirmed")]
    r = zh.seller("对", "好的，一号订单取消了：蜂蜜两瓶。")
    assert statuses(shop) == [(1, "cancelled"), (2, "confirmed")] and stock(shop, "蜂蜜") == 20
    assert r.notify == [("wechat", "b1", "老板取消了你的一号订单：蜂蜜两瓶。")]
    zh.seller("撤销", "撤销了：取消一号订单，订单恢复了。")
    assert statuses(shop) == [(1, "pending"), (2, "confirmed")] and stock(shop, "蜂蜜") == 18


def test_a_buyer_cancelling_a_shipped_order_hears_it_shipped_and_the_seller_is_told_zh(zh, shop):
    shop.customer("wechat", "b1", display_name="李四")
    zh.buyer("我要两瓶蜂蜜")
    zh.seller("一号订单发货了")
    assert statuses(shop) == [(1, "shipped")]
    r = zh.buyer("取消订单", "你的一号订单已经发货了，取消不了。已经告诉老板了。")
    assert statuses(shop) == [(1, "shipped")]
    assert r.notify == [("wechat", "boss", "李四想取消一号订单，可是已经发货了：蜂蜜两瓶。")]


def test_confirm_and_cancel_orders_by_number_en(en, db, config):
    s = Shop(db, config)
    en.buyer("i want two jars of honey")
    en.seller("confirm order one", "OK, order one confirmed: two jars of honey.")
    assert statuses(s) == [(1, "confirmed")]
    en.seller("cancel order one", "Cancel order one: two jars of honey. Is that right?")
    en.seller("yes", "OK, order one cancelled: two jars of honey.")
    assert statuses(s) == [(1, "cancelled")] and stock(s, "honey") == 20


# --- item 11: a buyer's correction changes the order; the seller hears one change ------------------------------


def test_a_buyers_correction_changes_the_order_and_the_seller_hears_it_once_zh(zh, shop):
    shop.customer("wechat", "b1", display_name="李四")
    r = zh.buyer("我要两瓶蜂蜜")
    assert r.notify == [("wechat", "boss", "新订单，一号：李四要蜂蜜两瓶，一共六十块。")]
    r = zh.buyer("不对，是一瓶")
    assert [(o["status"], o["items"][0]["quantity"]) for o in shop.list_orders()] == [("pending", 1)]
    assert stock(shop, "蜂蜜") == 19
    assert r.notify == [("wechat", "boss", "李四改了订单，现在是一号：蜂蜜一瓶，一共三十块。")]


# --- item 3: goods sold by weight in halves and decimals, said back naturally -------------------------------


def test_half_a_jin_and_a_jin_and_a_half_zh(zh, shop):
    zh.seller("卖了一斤半核桃", "好的，卖了一斤半核桃，一共四十五块，还剩八十八斤半。")
    assert stock(shop, "核桃") == 88.5
    zh.seller("卖了半斤核桃", "好的，卖了半斤核桃，一共十五块，还剩八十八斤。")
    assert stock(shop, "核桃") == 88
    zh.seller("核桃进了0.1斤")
    zh.seller("核桃进了0.2斤", "好的，核桃进了零点二斤，现在有八十八点三斤。")
    assert repr(stock(shop, "核桃")) == "88.3"
    zh.seller("撤销")
    zh.seller("撤销")
    assert stock(shop, "核桃") == 88
    r = zh.buyer("我要半斤核桃", "好的，半斤核桃，十五块，三号订单，老板知道了。")
    assert r.notify == [("wechat", "boss", "新订单，三号：一位顾客要核桃半斤，一共十五块。")]
    assert stock(shop, "核桃") == 87.5
    zh.seller("核桃还有几斤", "核桃还有八十七斤半。")
    zh.seller("今天卖了多少钱", "今天卖了两单，一共六十块。一单等你确认，说“三号订单确认”。")
    assert shop.report()["quantity"] == 2 and shop.report()["pending_fen"] == 1500


def test_goods_counted_in_pieces_are_never_split_zh(zh, shop):
    zh.seller("卖了半条绿松石手链", "绿松石手链按条卖，不能拆开。要几条？")
    assert stock(shop, "绿松石手链") == 10 and shop.list_orders() == []
    zh.seller("两条", "好的，卖了两条绿松石手链，一共四百块，还剩八条。")
    assert stock(shop, "绿松石手链") == 8


def test_half_a_jin_and_one_and_a_half_jin_en(en, db, config):
    s = Shop(db, config)
    en.seller("sold one and a half jin of walnuts",
              "OK, sold one and a half jin of walnuts, total forty-five yuan, eighty-eight and a half jin left.")  # fmt: skip
    assert stock(s, "walnuts") == 88.5
    en.buyer("i want half a jin of walnuts", "OK, half a jin of walnuts, fifteen yuan, order two, sent to the seller.")  # fmt: skip
    assert stock(s, "walnuts") == 88
    en.seller("how many walnuts are left", "Walnuts: eighty-eight jin left.")


# --- item 17: listing a product she has keeps her words ------------------------------------------------------


def test_listing_a_product_she_has_asks_to_update_it_with_her_numbers_zh(zh, shop):
    zh.seller("上架核桃，三十五块，二十斤", "核桃已经有了，现在三十块一斤，还有九十斤。要价格改成三十五块，再进二十斤吗？")
    assert (price(shop, "核桃"), stock(shop, "核桃")) == (3000, 90)
    zh.seller("对", "好的，核桃现在三十五块一斤，有一百一十斤。")
    assert (price(shop, "核桃"), stock(shop, "核桃")) == (3500, 110)
    zh.seller("撤销")
    zh.seller("撤销")
    assert (price(shop, "核桃"), stock(shop, "核桃")) == (3000, 90)
    zh.seller("上架核桃", "核桃已经有了，现在三十块一斤，还有九十斤。")  # nothing to ask, no invented amount
    zh.seller("上架蜂蜜，三十块，十瓶", "蜂蜜已经有了，现在三十块一瓶，还有二十瓶。要再进十瓶吗？")
    zh.seller("不对", "好的，没有改。")
    assert stock(shop, "蜂蜜") == 20


def test_listing_a_product_she_has_en(en, db, config):
    s = Shop(db, config)
    en.seller("add honey, thirty yuan, ten jars",
              "You already have honey: thirty yuan, twenty jars in stock. Shall I add ten jars?")  # fmt: skip
    en.seller("yes", "OK, honey is now thirty yuan, thirty jars in stock.")
    assert stock(s, "honey") == 30


# --- item 20: a price question mid-order keeps the order ------------------------------------------------------


def test_a_price_question_mid_order_keeps_the_order_zh(zh, shop):
    zh.buyer("我想买点核桃", "要几斤？")
    zh.buyer("多少钱一斤啊", "核桃三十块一斤。要几斤？")
    assert shop.list_orders() == []
    zh.buyer("那来三斤", "好的，三斤核桃，九十块，一号订单，老板知道了。")
    assert [(o["items"][0]["name"], o["items"][0]["quantity"]) for o in shop.list_orders()] == [("核桃", 3)]
    assert stock(shop, "核桃") == 87


def test_a_price_question_mid_order_keeps_the_order_en(en, db, config):
    s = Shop(db, config)
    en.buyer("i want some walnuts", "How many would you like?")
    en.buyer("how much is it", "Walnuts is thirty yuan. How many would you like?")
    en.buyer("three jin", "OK, three jin of walnuts, ninety yuan, order one, sent to the seller.")
    assert stock(s, "walnuts") == 87


# --- issue 20 item 9: an unrelated sentence is not the answer to a waiting question -------------------------------


def test_an_unrelated_sentence_is_not_the_answer_to_new_or_existing_zh(zh, shop):
    zh.seller("上架绿松石项链，三百块，五条", "你是说已经有的绿松石手链，绿松石耳环，还是新的绿松石项链？")
    r = zh.seller("今天卖了多少钱")
    assert "今天还没有卖出" in r.reply and "绿松石项链" not in [p["name"] for p in shop.list_products()]
    zh.seller("上架绿松石项链，三百块，五条")
    r = zh.seller("有新订单吗")
    assert r.intent.name == "list_orders" and "绿松石项链" not in [p["name"] for p in shop.list_products()]
    zh.seller("上架绿松石项链，三百块，五条")
    zh.seller("新的", "好的，绿松石项链，三百块，五条。")
    assert stock(shop, "绿松石项链") == 5
