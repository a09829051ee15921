"""How sellers and buyers really talk (issue 18): one conversation per defect, zh and en, driven through the
real dialogue in a fresh SQLite shop with the shop checked after every turn (voicebot/testing/conversations.py:
``expect`` is the change a turn must make, nothing when left out; ``asks``: a question, nothing changed yet).

Products, names and numbers differ from the issue's examples and from the corpus on purpose."""

from __future__ import annotations

import pytest

from voicebot.nlu.intents import understand
from voicebot.testing.conversations import run_conversation

ZH = [["花生", 12, 200, "斤"], ["茶油", 90, 40, "桶"], ["竹篮", 35, 15, "个"]]
EN = [["peanuts", 12, 200, "jin"], ["tea oil", 90, 40, "bottle"], ["basket", 35, 15, ""]]


def _talk(turns: list[dict], lang: str = "zh", role: str = "seller", shop=None, orders=None) -> None:
    conv = {"id": "t", "lang": lang, "role": role, "shop": shop or (ZH if lang == "zh" else EN), "turns": turns}
    if orders:
        conv["orders"] = orders
    outcomes = run_conversation(conv)
    bad = [o.line() for o in outcomes if o.outcome != "right"]
    assert not bad, "\n".join(bad)


def sale(customer, product, quantity, total=None, **more):
    order = {"items": [[product, quantity]], **more}
    if customer is not None:
        order["customer"] = customer
    if total is not None:
        order["total"] = total
    return {"orders": [order]}


# 1. a tens number right after a customer's name keeps its first digit
@pytest.mark.parametrize(("said", "who", "n"), [("卖给老赵三十斤花生", "老赵", 30), ("卖给小吴十五桶茶油", "小吴", 15),
                                               ("今天卖给钱大姐十二个竹篮，她开店用", "钱大姐", 12)])  # fmt: skip
def test_a_number_after_a_name_stays_whole(said, who, n) -> None:
    product = next(p for p in ("花生", "茶油", "竹篮") if p in said)
    _talk([{"say": said, "expect": sale(who, product, n)}])


def test_a_name_that_could_end_in_the_number_is_read_back_first() -> None:
    # 张三 and 十斤, or 张 and 三十斤; 王老五 and 十斤, or 王老 and 五十斤: both fit, so she is asked first
    _talk([{"say": "卖给张三十斤花生", "expect": {"asks": True}},
           {"say": "对", "expect": sale("张三", "花生", 10, 120)},
           {"say": "卖给王老五十斤花生", "expect": {"asks": True}},
           {"say": "对", "expect": sale("王老", "花生", 50, 600)},
           {"say": "卖给李二十二桶茶油", "expect": {"asks": True}}])  # fmt: skip


# 2. a pause between two numbers separates them; the pattern's order says which is the price
def test_a_comma_separates_price_and_count_zh() -> None:
    _talk([{"say": "上架木勺，六十五，二十个", "expect": {"new": {"木勺": [65, 20, "个"]}}},
           {"say": "上架菜籽油，二百五，十二桶", "expect": {"new": {"菜籽油": [250, 12, "桶"]}}},
           {"say": "上架草帽，八个，四十五", "expect": {"new": {"草帽": [45, 8, "个"]}}}])  # fmt: skip


def test_a_comma_separates_price_and_count_en() -> None:
    _talk([{"say": "add wooden spoon, sixty five, twenty pieces", "expect": {"new": {"wooden spoon": [65, 20]}}}],
          lang="en")  # fmt: skip


# 3. fractions are read as such (storing them is the shop's part); never rounded into the shop
@pytest.mark.parametrize(("lang", "said", "quantity"), [
    ("zh", "卖了两斤半花生", 2.5), ("zh", "花生卖了半斤", 0.5), ("zh", "卖了1.5斤花生", 1.5), ("zh", "卖了一斤半花生给老吴", 1.5),
    ("en", "sold half a jin of peanuts", 0.5), ("en", "sold two and a half jin of peanuts", 2.5),
    ("en", "sold a jin and a half of peanuts", 1.5)])  # fmt: skip
def test_fractions_are_read(lang, said, quantity) -> None:
    it = understand(said, lang, "seller", [p[0] for p in (ZH if lang == "zh" else EN)])
    assert it.name == "record_sale" and it.quantity == quantity and it.customer in (None, "老吴")


@pytest.mark.parametrize(("said", "quantity"), [("卖了一斤半花生", 1.5), ("老板，给我称两斤半花生", 2.5), ("花生卖了二两", 0.2)])
def test_a_fraction_is_never_rounded_into_the_shop(said, quantity) -> None:
    role = "buyer" if said.startswith("老板") else "seller"
    outcome = run_conversation({"id": "t", "lang": "zh", "role": role, "shop": ZH, "turns": [
        {"say": said, "expect": sale(None if role == "seller" else "@b1", "花生", quantity)}]})[0]
    assert outcome.outcome in ("right", "missed", "asked"), outcome.line()  # stored as said, or not at all


# 4. a buyer's chatter is not an order; with two products, the one the ordering cue governs
def test_buyer_chatter_is_not_an_order_zh() -> None:
    _talk([{"say": "我家里还有三斤花生没吃完呢"}, {"say": "昨天吃了两斤花生，吃多了上火"},
           {"say": "上次买的花生很好吃，这次想要两桶茶油", "expect": sale("@b1", "茶油", 2, 180)},
           {"say": "老板，三斤花生", "expect": sale("@b1", "花生", 3, 36)}], role="buyer")  # fmt: skip


def test_buyer_chatter_is_not_an_order_en() -> None:
    _talk([{"say": "I still have three jin of peanuts at home"},
           {"say": "the peanuts were great last time, this time I want two bottles of tea oil",
            "expect": sale("@b1", "tea oil", 2, 180)},
           {"say": "two jin of peanuts please", "expect": sale("@b1", "peanuts", 2, 24)}], lang="en", role="buyer")  # fmt: skip


# 5. money spent on something else is not the sale's price
def test_unrelated_money_is_not_the_price_zh() -> None:
    _talk([{"say": "早上买菜花了二十块，对了，卖了一桶茶油给钱大姐", "expect": sale("钱大姐", "茶油", 1, 90)},
           {"say": "交了一百块电费，唉，卖了四斤花生", "expect": sale(None, "花生", 4, 48)}])  # fmt: skip


def test_unrelated_money_is_not_the_price_en() -> None:
    _talk([{"say": "lunch cost me fifteen yuan, anyway, sold a bottle of tea oil to Amy",
            "expect": sale("amy", "tea oil", 1, 90)}], lang="en")  # fmt: skip


# 10. customers' names as said
def test_customer_names_as_said() -> None:
    _talk([{"say": "赵大爷刚买走三斤花生", "expect": sale("赵大爷", "花生", 3, 36)},
           {"say": "不对，是老孙买的", "expect": {"change": {1: {"customer": "老孙"}}}},
           {"say": "卖了三斤花生给老周，算他十块一斤", "expect": sale("老周", "花生", 3, 30)}])  # fmt: skip


def test_a_corrected_name_en() -> None:
    _talk([{"say": "sold two bottles of tea oil to Linda", "expect": sale("linda", "tea oil", 2, 180)},
           {"say": "no, it was Rose who bought them", "expect": {"change": {1: {"customer": "rose"}}}}], lang="en")  # fmt: skip


# 15. everyday ways of listing a product; help uses her words, never invented numbers
def test_everyday_listing_forms_zh() -> None:
    _talk([{"say": "新进了一批笋干，四十块一斤，二十斤", "expect": {"new": {"笋干": [40, 20, "斤"]}}},
           {"say": "早上好，今天新到了一批红枣，十八块一斤，六十斤", "expect": {"new": {"红枣": [18, 60, "斤"]}}},
           {"say": "再上个野山椒，十五块一瓶，三十瓶", "expect": {"new": {"野山椒": [15, 30, "瓶"]}}},
           {"say": "再上个苦荞茶", "expect": {"asks": True}},
           {"say": "二十五块一包", "expect": {"asks": True}},
           {"say": "四十包", "expect": {"new": {"苦荞茶": [25, 40, "包"]}}}])  # fmt: skip


def test_everyday_listing_forms_en() -> None:
    _talk([{"say": "Add chestnuts, fifteen yuan a jin, eighty jin", "expect": {"new": {"chestnuts": [15, 80, "jin"]}}},
           {"say": "I want to sell dried dates", "expect": {"asks": True}},
           {"say": "eighteen yuan a jin", "expect": {"asks": True}},
           {"say": "sixty jin", "expect": {"new": {"dried dates": [18, 60, "jin"]}}}], lang="en")  # fmt: skip


@pytest.mark.parametrize(("lang", "said"), [("zh", "卖了三斤香菇"), ("en", "sold three jin of mushrooms")])
def test_help_for_an_unknown_product_invents_no_numbers(lang, said) -> None:
    reply = run_conversation({"id": "t", "lang": lang, "shop": ZH if lang == "zh" else EN,
                              "turns": [{"say": said}]})[0].reply  # fmt: skip
    assert ("香菇" in reply or "mushrooms" in reply) and not any(w in reply for w in ("两百", "十个", "two hundred", "ten"))


# 16. 要 is a yes; 不取消 and 不不，还是要的 are a no
def test_yes_and_no_in_her_words() -> None:
    _talk([{"say": "下架竹篮", "expect": {"asks": True}}, {"say": "要", "expect": {"removed": ["竹篮"]}},
           {"say": "茶油不卖了", "expect": {"asks": True}}, {"say": "要得", "expect": {"removed": ["茶油"]}},
           {"say": "下架花生", "expect": {"asks": True}}, {"say": "不不，还是要卖的"}])  # fmt: skip


def test_a_buyer_keeps_the_order_with_no() -> None:
    _talk([{"say": "我要两桶茶油", "expect": sale("@b1", "茶油", 2, 180)},
           {"say": "取消订单", "expect": {"asks": True}}, {"say": "不取消"},
           {"say": "取消订单", "expect": {"asks": True}}, {"say": "不不，还是要的"}], role="buyer")  # fmt: skip


# 19. a buyer changing their mind, in their own words
def test_a_buyer_changes_their_mind_zh() -> None:
    _talk([{"say": "我要三桶茶油", "expect": sale("@b1", "茶油", 3, 270)},
           {"say": "算了还是要一桶吧", "expect": {"change": {1: {"items": [["茶油", 1]], "total": 90}}}}], role="buyer")  # fmt: skip


def test_a_buyer_changes_their_mind_en() -> None:
    _talk([{"say": "I want three bottles of tea oil", "expect": sale("@b1", "tea oil", 3, 270)},
           {"say": "actually, just one", "expect": {"change": {1: {"items": [["tea oil", 1]], "total": 90}}}}],
          lang="en", role="buyer")  # fmt: skip


# issue 20, 9: numbers inside markup are not amounts
def test_numbers_inside_markup_are_not_prices() -> None:
    _talk([{"say": "记账 <script>alert(16)</script> 卖了一桶茶油", "expect": sale(None, "茶油", 1, 90)},
           {"say": "<img src=x onerror=alert(7)>卖了两斤花生", "expect": sale(None, "花生", 2, 24)}])  # fmt: skip
    _talk([{"say": "<b>sold</b> <i>2</i> bottles of tea oil <span style='width:40px'>ok</span>",
            "expect": sale(None, "tea oil", 2, 180)}], lang="en")  # fmt: skip


# a price said after the sale, in the words sellers use
def test_a_price_after_the_sale_is_the_price() -> None:
    _talk([{"say": "卖了三斤花生给老孙，算他十一斤", "expect": sale("老孙", "花生", 3, 30)},
           {"say": "卖了两桶茶油收了一百六", "expect": sale(None, "茶油", 2, 160)}])  # fmt: skip


def test_a_stock_figure_never_becomes_a_price() -> None:
    # setting stock is its own intent; until it is understood it must not change the price either
    outcome = run_conversation({"id": "t", "lang": "zh", "shop": ZH, "turns": [
        {"say": "花生库存改成八十斤", "expect": {"stock": {"花生": -120}}}, {"say": "八十斤"}]})  # fmt: skip
    assert [o.outcome for o in outcome][1] == "right" and outcome[0].outcome != "wrong", outcome[0].line()


@pytest.mark.parametrize(("said", "quantity", "approximate"), [
    ("花生卖了二两", 0.2, False), ("卖了十二两花生", 1.2, False),  # 两 after a numeral: the weight liang
    ("卖了一两个竹篮", 2, True), ("卖了三两斤花生", 2, True), ("卖了三四十斤花生", 40, True)])  # fmt: skip
def test_liang_and_one_or_two(said, quantity, approximate) -> None:
    it = understand(said, "zh", "seller", [p[0] for p in ZH])
    assert (it.quantity, it.approximate) == (quantity, approximate)


def test_one_or_two_is_read_back_before_it_is_recorded() -> None:
    _talk([{"say": "卖了一两个竹篮给老吴", "expect": {"asks": True}},
           {"say": "对", "expect": sale("老吴", "竹篮", 2, 70)}])  # fmt: skip


def test_a_sale_with_its_price_after_it_and_a_name_that_is_also_a_word() -> None:
    # 钱 is money and a surname: 老钱 is a person; 算他两块五一斤 is this sale's price, not a new list price
    _talk([{"say": "卖给老钱五十斤花生，算他十块五一斤", "expect": sale("老钱", "花生", 50, 525)},
           {"say": "老钱刚买了两桶茶油", "expect": sale("老钱", "茶油", 2, 180)}])  # fmt: skip


def test_a_buyer_orders_in_plural_after_asking_the_price_en() -> None:
    _talk([{"say": "how much is the tea oil"}, {"say": "ok, I'll take two bottles", "expect": sale("@b1", "tea oil", 2, 180)}],
          lang="en", role="buyer")  # fmt: skip


def test_small_talk_with_command_words_before_the_command() -> None:
    # 涨到一百二 is about fertiliser: the command is the clause about something she sells
    _talk([{"say": "一百块的化肥涨到一百二了，卖了三斤花生", "expect": sale(None, "花生", 3, 36)}])
    it = understand("茶油卖了一桶半", "zh", "seller", ["茶油"])  # a fraction, not a customer called 桶半
    assert (it.quantity, it.customer) == (1.5, None)


def test_a_pasted_wall_of_commas_is_one_piece_not_thousands_of_clauses() -> None:
    from voicebot.nlu.normalize import clause_spans

    text = "，".join(["今天天气不错"] * 500) + "，卖了两瓶茶油"
    assert clause_spans(text, "zh") == [(0, len(text) - 500)]  # the commas are gone from the normalised text
    assert clause_spans("上架木勺，六十五，二十个", "zh") == [(0, 4), (4, 7), (7, 10)]
    assert understand(text, "zh", "seller", ["茶油"]).quantity == 2


def test_money_spent_is_not_the_price_even_without_pauses() -> None:
    # a voice transcript has no commas: the spending word says whose money it was
    _talk([{"say": "早上打车花了十五块对了卖了一桶茶油给钱大姐", "expect": sale("钱大姐", "茶油", 1, 90)},
           {"say": "刚交了八十块水费吴姐拿了两斤花生", "expect": sale("吴姐", "花生", 2, 24)}])  # fmt: skip
    _talk([{"say": "spent twenty yuan on lunch then sold two bottles of tea oil", "expect": sale(None, "tea oil", 2, 180)}],
          lang="en")  # fmt: skip


def test_the_cue_governs_its_product_without_pauses() -> None:
    _talk([{"say": "上回买的花生好吃这回想要两桶茶油", "expect": sale("@b1", "茶油", 2, 180)},
           {"say": "上次买了五斤花生这次要一个竹篮", "expect": sale("@b1", "竹篮", 1, 35)}], role="buyer")  # fmt: skip
    _talk([{"say": "卖了三斤花生给老孙算他十块一斤", "expect": sale("老孙", "花生", 3, 30)}])


def test_english_village_names_and_no_in_her_words() -> None:
    _talk([{"say": "sold twenty jin of peanuts to Lao Zhao", "expect": sale("lao zhao", "peanuts", 20, 240)},
           {"say": "remove the basket", "expect": {"asks": True}}, {"say": "no no, don't remove it"}], lang="en")  # fmt: skip
    _talk([{"say": "I want two bottles of tea oil", "expect": sale("@b1", "tea oil", 2, 180)},
           {"say": "cancel my order", "expect": {"asks": True}}, {"say": "don't cancel"},
           {"say": "cancel my order", "expect": {"asks": True}}, {"say": "no no, I still want it"}],
          lang="en", role="buyer")  # fmt: skip
