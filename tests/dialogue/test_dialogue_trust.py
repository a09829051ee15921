"""Issue 10: a dialogue a seller can trust by ear. Each test is a conversation: what she says, the exact
reply she hears, and what the shop holds afterwards (a real SQLite shop)."""

from __future__ import annotations

import re

import pytest
from dialogue_chat import Chat

from voicebot.dialogue.replies import say as render
from voicebot.shop.facade import Shop


@pytest.fixture
def zh(db, config, shop) -> Chat:
    shop.add_product("银手链", 80, 5, "条")
    return Chat(db, config)


@pytest.fixture
def en_shop(db, config) -> Shop:
    s = Shop(db, config)
    s.add_product("turquoise bracelet", 200, 10)
    s.add_product("turquoise earrings", 120, 6, "pairs")
    s.add_product("honey", 30, 20, "jars")
    s.add_product("silver bracelet", 80, 5)
    return s


@pytest.fixture
def en(db, config, en_shop) -> Chat:
    return Chat(db, config, "en")


def stock(shop: Shop, name: str) -> int:
    return shop.product(name)["stock"]


def sold(shop: Shop) -> list[tuple[str, int, str | None]]:
    return [(o["items"][0]["name"], o["items"][0]["quantity"], o["status"]) for o in shop.list_orders()]


# --- a complete new command replaces a waiting question ---------------------------------------------


def test_a_new_command_replaces_the_waiting_question_zh(zh, shop):
    zh.seller("卖了蜂蜜", "卖了几瓶？")
    zh.seller("耳环价格改成一百", "卖蜂蜜没有记。好的，绿松石耳环现在一百块。")
    assert sold(shop) == [] and shop.product("绿松石耳环")["price_fen"] == 10000 and stock(shop, "蜂蜜") == 20
    zh.seller("卖了蜂蜜", "卖了几瓶？")
    zh.seller("三瓶", "好的，卖了三瓶蜂蜜，一共九十块，还剩十七瓶。")  # a bare answer fills the slot


def test_a_new_command_replaces_the_waiting_question_en(en, en_shop):
    en.seller("sold honey", "How many did you sell?")
    en.seller(
        "change the price of honey to forty", "I dropped the sale of honey. OK, honey is now forty yuan."
    )
    assert sold(en_shop) == [] and en_shop.product("honey")["price_fen"] == 4000
    en.seller("add new product walnuts", "How much is it?")
    en.seller("thirty dollars each", "How many do you have?")  # a bare price answers the question
    en.seller("ten", "OK, walnuts, thirty yuan, ten in stock.")


# --- "no" never lies -----------------------------------------------------------------------------------


def test_no_after_a_committed_sale_offers_undo_and_yes_undoes_it_zh(zh, shop):
    zh.seller("卖了两对耳环给王五", "好的，卖了两对绿松石耳环给王五，一共两百四十块，还剩四对。")
    zh.seller("不对", "刚才记了：卖了两对绿松石耳环给王五。要撤销吗？")
    assert stock(shop, "绿松石耳环") == 4  # nothing undone yet, and she was not told otherwise
    zh.seller("对", "撤销了：卖两对绿松石耳环，库存回到六对。")
    assert stock(shop, "绿松石耳环") == 6 and sold(shop) == []


def test_no_after_a_committed_sale_then_no_keeps_it_en(en, en_shop):
    en.seller("sold two pairs of earrings to wang")
    en.seller("no", "I just recorded: sold two pairs of turquoise earrings to wang. Undo it?")
    en.seller("no", "OK, I kept it.")
    assert stock(en_shop, "turquoise earrings") == 4


def test_a_deny_with_a_correction_fixes_the_committed_action_zh(zh, shop):
    zh.seller("蜂蜜卖了两瓶", "好的，卖了两瓶蜂蜜，一共六十块，还剩十八瓶。")
    zh.seller("不对，十二瓶", "改过来了。好的，卖了十二瓶蜂蜜，一共三百六十块，还剩八瓶。")
    assert stock(shop, "蜂蜜") == 8 and sold(shop) == [("蜂蜜", 12, "confirmed")]
    zh.seller("蜂蜜价格改成三块", "蜂蜜原来三十块，改成三块，对吗？")
    zh.seller("不对 是 两块五", "蜂蜜原来三十块，改成两块五，对吗？")  # the waiting question, corrected
    zh.seller("对", "好的，蜂蜜现在两块五。")
    assert shop.product("蜂蜜")["price_fen"] == 250


def test_a_deny_with_a_correction_fixes_the_committed_action_en(en, en_shop):
    en.seller("sold two jars of honey", "OK, sold two jars of honey, total sixty yuan, eighteen jars left.")
    en.seller(
        "no, twelve",
        "Fixed. OK, sold twelve jars of honey, total three hundred and sixty yuan, eight jars left.",
    )
    assert stock(en_shop, "honey") == 8 and sold(en_shop) == [("honey", 12, "confirmed")]


# --- undo and 算了 while something waits ---------------------------------------------------------------


def test_undo_while_a_question_waits_cancels_it_and_never_reaches_back_zh(zh, shop):
    zh.seller("银手链进货五条", "好的，银手链进了五条，现在有十条。")
    zh.seller("下架蜂蜜", "下架蜂蜜，对吗？")
    zh.seller("撤销", "好的，下架蜂蜜不做了，什么都没改。")
    assert stock(shop, "银手链") == 10 and shop.find_product("蜂蜜") is not None
    zh.seller("卖了蜂蜜", "卖了几瓶？")
    zh.seller("算了", "好的，卖蜂蜜不做了，什么都没改。")
    assert sold(shop) == [] and stock(shop, "银手链") == 10


@pytest.mark.parametrize("cancel", ["never mind", "cancel", "undo"])
def test_never_mind_cancel_and_undo_drop_a_waiting_question_en(en, en_shop, cancel):
    en.seller("add five bracelets to stock", "Which one: turquoise bracelet or silver bracelet?")
    en.seller(cancel, "OK, I dropped the stock of bracelets. Nothing changed.")
    assert stock(en_shop, "turquoise bracelet") == 10 and stock(en_shop, "silver bracelet") == 5


def test_an_expired_question_says_her_change_was_not_made(zh, shop, config):
    zh.seller("上架核桃三十块", "有几个？")
    zh.wait(config.dialogue.pending_timeout_s + 1)
    r = zh.seller("五十个")
    assert r.reply.startswith("刚才的上架核桃等太久了，没有记。") and shop.find_product("核桃") is None


# --- every change is heard by the sellers ------------------------------------------------------------


def test_buyer_order_cancel_and_undo_are_heard_by_the_seller_with_the_order_number(zh, shop):
    shop.customer("wechat", "b1", display_name="李四")
    r = zh.buyer("我要两瓶蜂蜜", "好的，两瓶蜂蜜，六十块，一号订单，老板知道了。")
    assert r.notify == [("wechat", "boss", "新订单，一号：李四要蜂蜜两瓶，一共六十块。")]
    zh.buyer("取消订单", "取消订单：蜂蜜两瓶，对吗？")
    r = zh.buyer("对", "好的，订单取消了：蜂蜜两瓶。")
    assert r.notify == [("wechat", "boss", "李四取消了一号订单：蜂蜜两瓶。")] and stock(shop, "蜂蜜") == 20
    r = zh.buyer("撤销", "撤销了：取消李四那单，订单恢复了。")
    assert (
        r.notify == [("wechat", "boss", "李四的一号订单又恢复了：蜂蜜两瓶。")] and stock(shop, "蜂蜜") == 18
    )
    r = zh.buyer("撤销")
    assert r.notify == [("wechat", "boss", "李四撤回了一号订单：蜂蜜两瓶。")] and stock(shop, "蜂蜜") == 20


def test_buyer_cancel_is_heard_in_english(en, en_shop):
    en.seller("hello")  # the seller speaks English: she hears buyers in English
    en.buyer("i want two jars of honey")
    en.buyer("cancel my order")
    r = en.buyer("yes", "OK, your order is cancelled: two jars of honey.")
    assert r.notify == [("wechat", "boss", "A customer cancelled order one: two jars of honey.")]


def test_mark_shipped_by_product_order_number_or_customer(zh, shop):
    zh.buyer("我要两瓶蜂蜜", user="b1")
    zh.buyer("我要一对耳环", user="b2")
    zh.seller("卖了一条银手链给赵六")
    zh.seller("蜂蜜发货了", "好的，一号订单发货了：蜂蜜两瓶。")
    zh.seller("二号订单发货了", "好的，二号订单发货了：绿松石耳环一对。")
    zh.seller("赵六的货发了", "好的，赵六那单发货了：银手链一条。")
    assert [o["status"] for o in shop.list_orders()] == ["shipped", "shipped", "shipped"]
    zh.seller("撤销", "撤销了：赵六那单的发货。")
    assert shop.list_orders()[0]["status"] == "confirmed"


def test_mark_shipped_by_product_asks_which_when_two_orders_have_it_en(en, en_shop):
    en.buyer("i want two jars of honey", user="b1")
    en.buyer("i want one jar of honey", user="b2")
    r = en.seller("the honey has shipped")
    assert r.awaiting == "customer" and "number one" in r.reply.lower() and "number two" in r.reply.lower()
    en.seller("order two", "OK, order two shipped: one jar of honey.")
    assert [o["status"] for o in en_shop.list_orders()] == ["shipped", "pending"]


# --- numbers mean what she said --------------------------------------------------------------------------


def test_numbers_mean_what_she_said_zh(zh, shop):
    zh.seller("上架红薯干一包十二块三十包", "好的，红薯干，十二块，三十包。")
    row = shop.product("红薯干")
    assert (row["price_fen"], row["stock"], row["unit"]) == (1200, 30, "包")
    zh.seller("上架核桃三十块一斤", "有几斤？")
    zh.seller("五十斤", "好的，核桃，三十块，五十斤。")
    assert shop.product("核桃")["unit"] == "斤"
    zh.seller("卖了四斤核桃一共一百块", "好的，卖了四斤核桃，一共一百块，还剩四十六斤。")
    # issue 18 item 8: money said is money recorded (¥100, not 3 × 33.33); the unit price carries the remainder
    zh.seller("卖了三斤核桃一共一百块", "好的，卖了三斤核桃，一共一百块，还剩四十三斤。")
    assert stock(shop, "核桃") == 43
    order = shop.list_orders()[0]
    assert order["total_fen"] == 10000 and order["items"][0]["unit_price_fen"] == 3333
    assert order["items"][0]["line_total_fen"] == 10000 and shop.report()["revenue_fen"] == 20000


def test_numbers_mean_what_she_said_en(en, en_shop):
    en.seller(
        "add walnut cake eight dollars each twenty in stock", "OK, walnut cake, eight yuan, twenty in stock."
    )
    en.seller(
        "sold three jars of honey for ninety in total",
        "OK, sold three jars of honey, total ninety yuan, seventeen jars left.",
    )
    assert en_shop.list_orders()[0]["items"][0]["unit_price_fen"] == 3000


# --- English add-product ------------------------------------------------------------------------------


def test_english_add_product_asks_about_a_similar_name_and_never_changes_a_price(en, en_shop):
    en.seller(
        "add turquoise necklace price three hundred stock ten",
        "Do you mean the turquoise bracelet or turquoise earrings you already have, or a new turquoise necklace?",
    )
    en.seller("the bracelet")
    assert en_shop.find_product("turquoise necklace") is None
    assert en_shop.product("turquoise bracelet")["price_fen"] == 20000
    en.seller("add turquoise necklace price three hundred stock ten")
    en.seller("a new one", "OK, turquoise necklace, three hundred yuan, ten in stock.")
    en.seller(
        "add green tea for fifteen dollars stock thirty", "OK, green tea, fifteen yuan, thirty in stock."
    )
    assert en_shop.product("turquoise bracelet")["price_fen"] == 20000


def test_zh_similar_new_name_is_a_question(zh, shop):
    zh.seller("上架绿松石项链三百块十条", "你是说已经有的绿松石手链，绿松石耳环，还是新的绿松石项链？")
    zh.seller("新的", "好的，绿松石项链，三百块，十条。")


@pytest.mark.parametrize("lang,role", [("zh", "seller"), ("zh", "buyer"), ("en", "seller"), ("en", "buyer")])
def test_every_phrasing_the_help_reply_teaches_works(db, config, lang, role):
    """Said in order to a shop that has honey, each quoted example does what it says."""
    s = Shop(db, config)
    s.add_product("蜂蜜" if lang == "zh" else "honey", 30, 20, "瓶" if lang == "zh" else "jars")
    chat = Chat(db, config, lang)
    help_text = render(lang, f"help.{role}") + render(lang, f"greeting.{role}")
    examples = re.findall(r"“([^”]+)”" if lang == "zh" else r"'([^']+)'", help_text)
    assert len(examples) >= 3
    for example in examples:
        r = chat.turn(example, role=role)
        assert r.error_code is None and r.awaiting is None, example
        assert r.intent.name not in ("unknown", "help"), example


# --- buyers keep context -----------------------------------------------------------------------------------


def test_buyer_follow_up_keeps_the_product_for_one_turn_zh(zh, shop):
    zh.buyer("银手链多少钱", "银手链八十块一条。")
    zh.buyer("我要两条", "好的，两条银手链，一百六十块，一号订单，老板知道了。")
    zh.buyer("我要十条银手链", "银手链只剩三条了。")
    zh.buyer("那我要三条", "好的，三条银手链，两百四十块，二号订单，老板知道了。")
    zh.buyer("我要两条", "哪个商品？")  # one follow-up only
    zh.buyer("有核桃吗", "刚才的事没有记。没有核桃。我们有：绿松石手链，绿松石耳环，蜂蜜。")
    assert stock(shop, "银手链") == 0


def test_buyer_follow_up_keeps_the_product_for_one_turn_en(en, en_shop):
    en.buyer("how much is the silver bracelet", "Silver bracelet is eighty yuan.")
    en.buyer(
        "i'll take two",
        "OK, two silver bracelets, one hundred and sixty yuan, order one, sent to the seller.",
    )
    en.buyer(
        "do you have walnuts",
        "We don't have walnuts. We have: turquoise bracelet, turquoise earrings, honey, silver bracelet.",
    )


def test_which_one_accepts_a_distinguishing_word_or_an_ordinal(zh, en, shop, en_shop):
    zh.seller("卖了两条手链", "哪一个：银手链还是绿松石手链？")
    zh.seller("银的", "好的，卖了两条银手链，一共一百六十块，还剩三条。")
    zh.seller("卖了一条手链")
    zh.seller("第二个", "好的，卖了一条绿松石手链，一共两百块，还剩九条。")
    en.seller("sold a bracelet", "Which one: turquoise bracelet or silver bracelet?")
    en.seller("the silver one", "OK, sold one silver bracelet, total eighty yuan, four left.")
    en.seller("sold a bracelet")
    en.seller("the first", "OK, sold one turquoise bracelet, total two hundred yuan, nine left.")


# --- read-backs say enough --------------------------------------------------------------------------------


def test_read_backs_say_enough_zh(zh, shop):
    zh.seller("你好", "你好！可以说：“今天卖了多少钱”。")
    zh.buyer("您好", "你好！想买什么？可以说：“有什么卖的”。")
    zh.seller("卖了五条银手链给赵六", "好的，卖了五条银手链给赵六，一共四百块，卖完了。")
    zh.seller("库存", "库存：银手链卖完了，绿松石耳环六对，绿松石手链十条，蜂蜜二十瓶。")  # the last one said
    zh.seller("今天的订单", "今天一个订单：一号，赵六，银手链五条。")  # a name never runs into a number


def test_a_buyer_with_several_orders_hears_them_all_in_chunks(zh, shop, config):
    for text in ("我要一瓶蜂蜜", "我要一对耳环", "我要一条绿松石手链", "我要一条银手链", "我要两瓶蜂蜜"):
        zh.buyer(text)
    r = zh.buyer("我的订单到哪了")
    assert r.reply.startswith("你有五个订单：五号订单，蜂蜜两瓶，等老板确认") and r.awaiting == "more"
    r = zh.buyer("要")
    assert r.reply.startswith("二号订单，绿松石耳环一对") and "一号订单，蜂蜜一瓶" in r.reply


def test_read_backs_and_plurals_en(en, en_shop):
    en.seller("hello", "Hello! You can say: 'how much did I sell today'.")
    en.seller("add five jars of honey to stock", "OK, five more jars of honey, now twenty-five jars.")
    en.seller(
        "sold five silver bracelets", "OK, sold five silver bracelets, total four hundred yuan, sold out."
    )
    en.seller("how much did i sell today", "Today: one order, four hundred yuan in total.")


# --- the sales summary counts only confirmed sales ------------------------------------------------------


def test_sales_summary_counts_confirmed_sales_and_tells_waiting_orders_apart(zh, en, shop):
    zh.buyer("我要两瓶蜂蜜", user="b1")
    zh.buyer("我要一对耳环", user="b2")
    zh.seller("今天卖了多少钱", "今天还没有卖出。两单等你确认，说“一号订单确认”。")
    zh.seller("卖了一条绿松石手链给张三")
    zh.seller("今天卖了多少钱", "今天卖了一单，一共两百块。两单等你确认，说“一号订单确认”。")
    zh.seller("蜂蜜发货了")
    zh.seller("今天卖了多少钱", "今天卖了两单，一共两百六十块。一单等你确认，说“二号订单确认”。")
    en.seller(
        "how much did i sell today",
        "Today: two orders, two hundred and sixty yuan in total. Still waiting for you to confirm: one order."
        " Say 'confirm order two'.",
    )


def test_an_order_the_seller_never_confirmed_expires_and_everyone_hears_it(zh, shop, db):
    shop.customer("wechat", "b1", display_name="李四")
    zh.buyer("我要两瓶蜂蜜")
    assert stock(shop, "蜂蜜") == 18
    db.raw.execute("UPDATE orders SET created_at = '2020-01-01T00:00:00.000000Z'")  # placed long ago
    r = zh.seller("库存")
    assert ("wechat", "boss", "李四的一号订单过期了，已经取消，库存放回去了：蜂蜜两瓶。") in r.notify
    assert ("wechat", "b1", "你的一号订单老板没有及时确认，已经取消了：蜂蜜两瓶。") in r.notify
    assert shop.list_orders()[0]["status"] == "cancelled" and stock(shop, "蜂蜜") == 20
    assert zh.seller("库存").notify == []  # told once


def test_a_correction_can_name_the_right_customer_and_a_name_is_not_a_number(zh, en, shop):
    zh.seller("卖了两瓶蜂蜜给王五")
    zh.seller("不对，是李四", "改过来了。好的，卖了两瓶蜂蜜给李四，一共六十块，还剩十八瓶。")
    assert [o["customer_name"] for o in shop.list_orders()] == ["李四"] and stock(shop, "蜂蜜") == 18
    en.seller("sold two jars of honey to wang")
    en.seller(
        "no, to mary", "Fixed. OK, sold two jars of honey to mary, total sixty yuan, eighteen jars left."
    )
    assert [o["customer_name"] for o in shop.list_orders()] == ["mary", "李四"]


def test_a_seller_action_without_a_product_is_still_a_new_command_but_a_bare_price_is_an_answer(zh, shop):
    zh.seller("卖了蜂蜜", "卖了几瓶？")
    zh.seller("进货五瓶", "卖蜂蜜没有记。哪个商品？")  # not "sold five"
    assert sold(shop) == [] and stock(shop, "蜂蜜") == 20
    zh.seller("上架核桃", "刚才的事没有记。多少钱？")
    zh.seller("三十块一斤", "有几斤？")
    zh.seller("改成四十块", "有几斤？")
    zh.seller("十斤", "好的，核桃，四十块，十斤。")


def test_english_read_backs_of_expiry_orders_and_shipping(en, en_shop, config):
    en.seller("add new product walnuts", "How much is it?")
    en.wait(config.dialogue.pending_timeout_s + 1)
    r = en.seller("thirty")
    assert r.reply.startswith("I waited too long for an answer, so adding walnuts was not recorded.")
    for text in (
        "i want a jar of honey",
        "i want a pair of earrings",
        "i want a silver bracelet",
        "i want two jars of honey",
    ):
        en.buyer(text)
    r = en.buyer("where is my order")
    assert r.reply.startswith("You have four orders: order four: two jars of honey, waiting for the seller")
    assert r.awaiting is None and "Want to hear" not in r.reply  # the last one is said, not offered
    assert "order one: one jar of honey" in r.reply
    en.seller("the earrings have shipped", "OK, order two shipped: one pair of turquoise earrings.")
    en.seller("no", "I just recorded: order two shipped. Undo it?")
    en.seller("yes", "Undone: shipping order two.")
    assert [o["status"] for o in en_shop.list_orders()] == ["pending"] * 4


def test_a_buyer_without_a_name_is_called_by_the_alias_the_seller_gave(zh, shop):
    buyer = shop.customer("wechat", "b9")
    shop.add_alias(buyer["id"], "小王")
    r = zh.buyer("我要一瓶蜂蜜", user="b9")
    assert r.notify == [("wechat", "boss", "新订单，一号：小王要蜂蜜一瓶，一共三十块。")]
    zh.seller("今天的订单", "今天一个订单：一号，小王，蜂蜜一瓶。")
    zh.seller("一号订单发货了", "好的，小王那单发货了：蜂蜜一瓶。")


def test_a_correction_can_name_the_right_product_and_a_number_never_sounds_like_one(zh, en, shop, en_shop):
    zh.seller("卖了两瓶蜂蜜")
    zh.seller(
        "不对，十二瓶", "改过来了。好的，卖了十二瓶蜂蜜，一共三百六十块，还剩八瓶。"
    )  # 二 is not 耳(环)
    zh.seller("不对，是三对耳环", "改过来了。好的，卖了三对绿松石耳环，一共三百六十块，还剩三对。")
    assert stock(shop, "蜂蜜") == 20 and sold(shop) == [("绿松石耳环", 3, "confirmed")]
    en.seller("sold two turquoise bracelets")
    en.seller(
        "no, the silver bracelet",
        "Fixed. OK, sold two silver bracelets, total one hundred and sixty yuan, three left.",
    )
    assert stock(en_shop, "turquoise bracelet") == 10 and stock(en_shop, "silver bracelet") == 3


def test_which_order_to_ship_is_answered_by_a_name(zh, shop):
    zh.seller("卖了一瓶蜂蜜给张三")
    zh.buyer("我要一瓶蜂蜜")
    zh.seller("蜂蜜发货了", "二号，蜂蜜一瓶；一号，张三，蜂蜜一瓶。哪一单？")  # no 「一位顾客」 per order
    zh.seller("张三的", "好的，张三那单发货了：蜂蜜一瓶。")
    assert [o["status"] for o in shop.list_orders()] == ["pending", "shipped"]


def test_yesterdays_sales_are_not_todays(zh, shop):
    zh.seller("卖了两瓶蜂蜜")
    zh.seller("昨天卖了多少钱", "昨天还没有卖出。")
    zh.seller("今天卖了多少钱", "今天卖了一单，一共六十块。")
