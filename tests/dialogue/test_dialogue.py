"""Multi-turn dialogue over a real SQLite file and the real NLU (zh and en), no audio."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from voicebot.dialogue import TurnResult, handle_turn, note_photo
from voicebot.shop.facade import Shop
from voicebot.store.db import open_db
from voicebot.store.scoped import ShopDb

T0 = 1_800_000_000.0  # a fixed "now" (epoch seconds): expiry is tested by moving it, not by sleeping


@pytest.fixture
def en_shop(db, config) -> Shop:
    s = Shop(db, config)
    s.add_product("turquoise bracelet", 200, 10)
    s.add_product("honey", 30, 20)
    return s


def say(db, config, text, *, user="boss", role="seller", lang="zh", confidence=None, now=T0,
        alternatives=(), hypotheses=()) -> TurnResult:
    result = handle_turn(
        db,
        config,
        channel="wechat",
        user_id=user,
        role=role,
        lang=lang,
        text=text,
        confidence=confidence,
        alternatives=alternatives,
        hypotheses=hypotheses,
        now=now,
    )
    print(f"{role}> {text}\n  bot< {result.reply}  [{result.intent.name} awaiting={result.awaiting}]")
    assert result.reply.strip(), "the bot must never be silent"
    return result


def stock(shop: Shop, name: str) -> int:
    return shop.product(name)["stock"]


def order_count(db) -> int:
    return db.raw.execute("SELECT count(*) FROM orders").fetchone()[0]


# --- slot filling ---------------------------------------------------------------------------------


def test_add_product_missing_price_is_asked_then_committed_zh(db, config, shop):
    r = say(db, config, "上架银戒指二十个")
    assert r.awaiting == "price" and r.reply == "多少钱？" and not r.committed
    assert shop.find_product("银戒指") is None
    r = say(db, config, "一百五十块", now=T0 + 10)
    assert r.committed and r.action_id
    row = shop.find_product("银戒指")
    assert (row["price_fen"], row["stock"]) == (15000, 20)
    assert (
        "银戒指" in r.reply and "一百五十块" in r.reply and "二十个" in r.reply
    )  # implicit confirmation


def test_add_product_missing_price_is_asked_then_committed_en(db, config, en_shop):
    r = say(db, config, "add product jade ring stock ten", lang="en")
    assert r.awaiting == "price" and r.reply == "How much is it?"
    r = say(db, config, "two hundred", lang="en", now=T0 + 5)
    assert r.committed
    row = en_shop.find_product("jade ring")
    assert (row["price_fen"], row["stock"]) == (20000, 10)
    assert "two hundred yuan" in r.reply and "ten" in r.reply


def test_missing_quantity_then_price_asked_one_at_a_time(db, config, shop):
    r = say(db, config, "上架核桃")
    assert r.awaiting == "price"
    r = say(db, config, "两块五", now=T0 + 1)
    assert r.awaiting == "quantity" and "几" in r.reply
    r = say(db, config, "五十", now=T0 + 2)
    assert r.committed
    row = shop.find_product("核桃")
    assert (row["price_fen"], row["stock"]) == (250, 50)
    assert "两块五" in r.reply


# --- confirmation -----------------------------------------------------------------------------------


def test_low_confidence_sale_is_read_back_then_confirmed_zh(db, config, shop):
    r = say(db, config, "卖了两条绿松石手链", confidence=0.4)
    assert r.awaiting == "confirm" and not r.committed
    assert "两条" in r.reply and "绿松石手链" in r.reply
    assert stock(shop, "绿松石手链") == 10 and order_count(db) == 0
    r = say(db, config, "对", now=T0 + 3)
    assert r.committed and r.action_id
    assert stock(shop, "绿松石手链") == 8 and order_count(db) == 1
    assert "四百块" in r.reply  # the total, said as people say it


def test_low_confidence_sale_confirmed_en(db, config, en_shop):
    r = say(db, config, "sold two turquoise bracelets", lang="en", confidence=0.3)
    assert r.awaiting == "confirm" and "two" in r.reply
    r = say(db, config, "yes", lang="en", now=T0 + 3)
    assert r.committed and stock(en_shop, "turquoise bracelet") == 8
    assert "four hundred yuan" in r.reply


def test_a_sure_hearing_whose_other_readings_differ_is_read_back(db, config, shop):
    """Sure of 卖了两条, but the recogniser's beam also heard 十二条: the amount is not sure, so she is asked."""
    heard = ["卖了两条绿松石手链", "卖了2条绿松石手链。", "卖了十二条绿松石手链"]
    r = say(db, config, heard[0], confidence=0.95, alternatives=heard)
    assert r.awaiting == "confirm" and not r.committed and "两条" in r.reply
    assert stock(shop, "绿松石手链") == 10 and order_count(db) == 0
    # kept with the turn for the console: why it asked (the rival), and what else was heard, that rival first
    assert r.to_dict()["heard"] == {"confidence": 0.95, "rivals": [heard[2], heard[1]],
                                    "asked": [{"reason": "rival", "detail": heard[2]}]}
    r = say(db, config, "对", now=T0 + 3)
    assert r.committed and stock(shop, "绿松石手链") == 8 and order_count(db) == 1
    assert r.heard is None  # typed, and nothing asked
    r = say(db, config, "卖了三瓶蜂蜜", confidence=0.42, alternatives=["卖了三瓶蜂蜜", "卖了三瓶蜂蜜。"], now=T0 + 6)
    assert r.awaiting == "confirm" and r.heard == {
        "confidence": 0.42, "rivals": [], "asked": [{"reason": "low_confidence", "detail": "0.42"}]}


def test_other_readings_that_mean_the_same_do_not_slow_her_down(db, config, shop):
    """The beam's hypotheses differ only in how they are written (2 for 两, a full stop): it acts at once."""
    heard = ["卖了两条绿松石手链", "卖了2条绿松石手链。", "卖了两条绿松石手链。"]
    r = say(db, config, heard[0], confidence=0.95, alternatives=heard)
    assert r.committed and stock(shop, "绿松石手链") == 8
    assert r.heard == {"confidence": 0.95, "rivals": [heard[1]], "asked": []}  # 2条 is shown; a full stop is not
    r = say(db, config, "今天卖了多少", confidence=0.95, alternatives=["今天卖了多少", "今天麦了多少"], now=T0 + 3)
    assert not r.committed and r.awaiting is None  # a question is answered whatever else was heard


def test_a_transcript_not_understood_is_read_from_the_rest_of_the_beam(db, config, shop):
    """Whisper's best says nothing understood; its beam's next hypothesis does: a question is answered, a
    change is read back in the beam's words however sure the recogniser was, and 对 makes it once."""
    beam = ["绿松石手链多少鲜?", "绿松石手链多少钱?", "绿松石手链多少线?"]
    r = say(db, config, beam[0], role="buyer", user="zhang", confidence=0.95, hypotheses=beam)
    assert r.intent.name == "ask_price" and "两百" in r.reply and not r.committed
    beam = ["迈进王五两调手链", "卖给王五两条手链", "在几王五量调手链"]
    r = say(db, config, beam[0], confidence=0.95, hypotheses=beam, now=T0 + 3)
    assert r.awaiting == "confirm" and not r.committed and "王五" in r.reply
    assert [(a["reason"], a["detail"]) for a in r.heard["asked"]] == [("beam", "卖给王五两条手链")]  # for operators
    assert stock(shop, "绿松石手链") == 10 and order_count(db) == 0
    r = say(db, config, "对", now=T0 + 6)
    assert r.committed and stock(shop, "绿松石手链") == 8 and order_count(db) == 1


def test_a_command_missing_a_slot_is_completed_from_the_beam_and_read_back(db, config, shop):
    """我要三平送你 (no product) beside 我要三瓶蜂蜜: the same command with what was heard kept, read back first;
    a hypothesis that says another amount completes nothing (her own words are asked about instead)."""
    beam = ["我要三平送你", "我要三平奉你", "我要三瓶蜂蜜"]
    r = say(db, config, beam[0], role="buyer", user="zhang", confidence=0.95, hypotheses=beam)
    assert r.awaiting == "confirm" and "三瓶蜂蜜" in r.reply and order_count(db) == 0
    r = say(db, config, "对", role="buyer", user="zhang", now=T0 + 3)
    assert r.committed and order_count(db) == 1 and stock(shop, "蜂蜜") == 17
    beam = ["卖了两条", "卖了十二条绿松石手链", "卖了两条。"]
    r = say(db, config, beam[0], confidence=0.95, hypotheses=beam, now=T0 + 6)
    assert r.awaiting == "product" and not r.committed and stock(shop, "绿松石手链") == 10


def test_the_beam_is_not_read_for_answers_typed_text_or_greetings(db, config, shop):
    """A question waiting gets the transcript itself; typed text has no beam; a beam of greetings and
    murmurs stays not understood; an undo found only in the beam is offered, never done."""
    say(db, config, "上架核桃", confidence=0.95)  # asks the price
    r = say(db, config, "嗯嗯", confidence=0.95, hypotheses=["嗯嗯", "卖了两条手链"], now=T0 + 3)
    assert not r.committed and stock(shop, "绿松石手链") == 10
    r = say(db, config, "你好", confidence=0.95, hypotheses=["你好", "您好"], now=T0 + 200)
    assert not r.committed and r.intent.name == "unknown"
    r = say(db, config, "卖了两条手链", confidence=0.95, now=T0 + 203)
    assert r.committed and stock(shop, "绿松石手链") == 8
    r = say(db, config, "车下", confidence=0.95, hypotheses=["车下", "撤销"], now=T0 + 206)
    assert not r.committed and r.awaiting and stock(shop, "绿松石手链") == 8
    r = say(db, config, "对", now=T0 + 209)
    assert r.committed and stock(shop, "绿松石手链") == 10


def test_deny_changes_nothing_and_says_so(db, config, shop):
    actions_before = db.raw.execute("SELECT count(*) FROM actions").fetchone()[0]
    say(db, config, "卖了三条绿松石手链", confidence=0.5)
    r = say(db, config, "不对", now=T0 + 2)
    assert not r.committed and "没有改" in r.reply
    assert stock(shop, "绿松石手链") == 10 and order_count(db) == 0
    assert db.raw.execute("SELECT count(*) FROM actions").fetchone()[0] == actions_before
    r = say(db, config, "对", now=T0 + 4)  # nothing is pending any more
    assert not r.committed and stock(shop, "绿松石手链") == 10


def test_deny_en(db, config, en_shop):
    say(db, config, "sold two turquoise bracelets", lang="en", confidence=0.2)
    r = say(db, config, "no", lang="en", now=T0 + 1)
    assert not r.committed and "nothing changed" in r.reply.lower()
    assert stock(en_shop, "turquoise bracelet") == 10


def test_confident_sale_commits_at_once_with_implicit_confirmation(db, config, shop):
    r = say(db, config, "卖了两条手链给张三", confidence=0.95)
    assert r.committed and stock(shop, "绿松石手链") == 8
    assert "绿松石手链" in r.reply and "两条" in r.reply and "张三" in r.reply and "八条" in r.reply
    order = shop.list_orders()[0]
    assert order["customer_name"] == "张三"


def test_price_far_from_the_old_one_asks_first(db, config, shop):
    r = say(db, config, "蜂蜜价格改成三百")
    assert r.awaiting == "confirm" and "三十块" in r.reply and "三百块" in r.reply
    assert shop.product("蜂蜜")["price_fen"] == 3000
    assert r.heard == {"confidence": None, "rivals": [], "asked": [{"reason": "far_amount", "detail": None}]}
    r = say(db, config, "是的", now=T0 + 1)
    assert r.committed and shop.product("蜂蜜")["price_fen"] == 30000


def test_near_price_change_commits_with_read_back(db, config, shop):
    r = say(db, config, "绿松石手链价格改成一百八")
    assert r.committed and shop.product("绿松石手链")["price_fen"] == 18000
    assert "一百八十块" in r.reply


def test_remove_product_always_confirms(db, config, shop):
    r = say(db, config, "下架蜂蜜", confidence=0.9, alternatives=["下架蜂蜜", "下架蜂蜜吧"])
    assert r.awaiting == "confirm" and shop.find_product("蜂蜜") is not None
    assert r.heard == {"confidence": 0.9, "rivals": ["下架蜂蜜吧"], "asked": [{"reason": "always", "detail": None}]}
    r = say(db, config, "对", now=T0 + 1)
    assert r.committed and shop.find_product("蜂蜜") is None


# --- undo, repeat, help -----------------------------------------------------------------------------


def test_undo_after_a_sale_restores_stock_and_reads_back(db, config, shop):
    say(db, config, "卖了两条绿松石手链")
    assert stock(shop, "绿松石手链") == 8
    r = say(db, config, "撤销", now=T0 + 5)
    assert r.committed and stock(shop, "绿松石手链") == 10 and order_count(db) == 0
    assert "撤销了" in r.reply and "绿松石手链" in r.reply and "十条" in r.reply
    r = say(db, config, "撤销", now=T0 + 6)  # the product seeding was not this user's action
    assert not r.committed and r.error_code == "nothing_to_undo"


def test_undo_en(db, config, en_shop):
    say(db, config, "sold two turquoise bracelets", lang="en")
    r = say(db, config, "undo that", lang="en", now=T0 + 1)
    assert r.committed and stock(en_shop, "turquoise bracelet") == 10
    assert "undone" in r.reply.lower()


def test_undo_in_the_middle_of_a_question_cancels_the_question_not_an_older_action(db, config, shop):
    say(db, config, "绿松石手链进货五条")
    assert stock(shop, "绿松石手链") == 15
    assert say(db, config, "上架核桃", now=T0 + 1).awaiting == "price"
    r = say(db, config, "撤销", now=T0 + 2)
    assert r.reply == "好的，上架核桃不做了，什么都没改。" and not r.committed and r.awaiting is None
    assert stock(shop, "绿松石手链") == 15 and shop.find_product("核桃") is None
    r = say(db, config, "撤销", now=T0 + 3)  # asked again with nothing waiting: now the restock goes
    assert r.committed and stock(shop, "绿松石手链") == 10


def test_repeat_and_help_work_mid_question(db, config, shop):
    say(db, config, "上架银戒指二十个")
    r = say(db, config, "再说一遍", now=T0 + 1)
    assert r.reply == "多少钱？" and r.awaiting == "price"
    r = say(db, config, "帮助", now=T0 + 2)
    assert "上架" in r.reply and "多少钱？" in r.reply and r.awaiting == "price"
    r = say(db, config, "两百块", now=T0 + 3)
    assert r.committed and shop.find_product("银戒指")["price_fen"] == 20000


def test_help_is_for_the_role_and_language(db, config, en_shop):
    seller = say(db, config, "help", lang="en")
    buyer = say(db, config, "help", user="b1", role="buyer", lang="en")
    assert "add" in seller.reply and "what do you sell" in buyer.reply and seller.reply != buyer.reply


# --- expiry and restart -----------------------------------------------------------------------------


def test_pending_question_expires(db, config, shop):
    say(db, config, "上架绿松石戒指二十个")
    r = say(db, config, "两百块", now=T0 + config.dialogue.pending_timeout_s + 1)
    assert not r.committed and r.awaiting is None
    assert shop.find_product("绿松石戒指") is None


def test_state_survives_a_restart(config, tmp_path):
    db = ShopDb(open_db(config.db_path), 1)
    Shop(db, config).add_product("蜂蜜", 30, 20, "瓶")
    assert say(db, config, "上架绿松石戒指二十个").awaiting == "price"
    db.close()
    db = ShopDb(open_db(config.db_path), 1)  # a new process would do exactly this
    r = say(db, config, "两百块", now=T0 + 30)
    assert r.committed and Shop(db, config).find_product("绿松石戒指")["stock"] == 20
    db.close()


# --- buyers -------------------------------------------------------------------------------------------


def test_buyer_order_when_stock_is_short_says_only_n_left(db, config, shop):
    shop.adjust_stock("绿松石手链", -7)  # 3 left
    r = say(db, config, "我要五条绿松石手链", user="b1", role="buyer")
    assert not r.committed and r.error_code == "out_of_stock"
    assert "只剩三条" in r.reply
    assert stock(shop, "绿松石手链") == 3 and order_count(db) == 0


def test_buyer_order_short_en(db, config, en_shop):
    en_shop.adjust_stock("turquoise bracelet", -8)
    r = say(db, config, "i want five turquoise bracelets", user="b1", role="buyer", lang="en")
    assert "only two" in r.reply.lower() and stock(en_shop, "turquoise bracelet") == 2


def test_buyer_order_reserves_stock_reads_total_and_notifies_every_seller(db, config, shop):
    shop.add_seller("helper")  # a second seller, added by voicebot shop seller add
    r = say(db, config, "我要两条绿松石手链", user="b1", role="buyer")
    assert r.committed and stock(shop, "绿松石手链") == 8
    assert "四百块" in r.reply and "两条" in r.reply
    to = {(ch, uid) for ch, uid, _ in r.notify}
    assert to == {("wechat", "boss"), ("wechat", "helper")}
    assert all("绿松石手链" in text and "四百块" in text for _, _, text in r.notify)
    order = shop.list_orders()[0]
    assert order["status"] == "pending" and order["created_by"] == "buyer"


def test_buyers_cannot_change_prices_or_stock(db, config, shop):
    for text in ("绿松石手链价格改成一百八", "绿松石手链进货五条", "下架蜂蜜"):
        r = say(db, config, text, user="b1", role="buyer")
        assert not r.committed
    assert shop.product("绿松石手链")["price_fen"] == 20000 and stock(shop, "绿松石手链") == 10
    assert shop.find_product("蜂蜜") is not None
    assert db.raw.execute("SELECT count(*) FROM actions WHERE actor_id IS NOT NULL").fetchone()[0] == 0


def test_buyer_cancel_confirms_first_and_returns_stock(db, config, shop):
    say(db, config, "我要两瓶蜂蜜", user="b1", role="buyer")
    assert stock(shop, "蜂蜜") == 18
    r = say(db, config, "取消订单", user="b1", role="buyer", now=T0 + 1)
    assert r.awaiting == "confirm" and stock(shop, "蜂蜜") == 18
    r = say(db, config, "对", user="b1", role="buyer", now=T0 + 2)
    assert r.committed and stock(shop, "蜂蜜") == 20


def test_list_is_chunked_and_confirm_reads_the_next_chunk_zh(db, config, shop):
    shop.add_product("茶叶", 80, 5, "斤")
    shop.add_product("香菇", 40, 5, "斤")
    r = say(db, config, "有什么卖的", user="b1", role="buyer")
    assert "还有两样，要听吗？" in r.reply and r.awaiting == "more"
    assert "绿松石手链" in r.reply and "茶叶" not in r.reply
    r = say(db, config, "要", user="b1", role="buyer", now=T0 + 1)
    assert "茶叶" in r.reply and "香菇" in r.reply and "绿松石手链" not in r.reply
    assert r.awaiting is None


def test_list_chunked_en(db, config, en_shop):
    for name in ("walnut", "tea", "mushroom"):
        en_shop.add_product(name, 10, 5)
    r = say(db, config, "what do you sell", user="b1", role="buyer", lang="en")
    assert "two more" in r.reply.lower()
    r = say(db, config, "yes", user="b1", role="buyer", lang="en", now=T0 + 1)
    assert "mushroom" in r.reply


def test_unknown_product_and_unknown_intent_get_a_spoken_hint(db, config, shop):
    r = say(db, config, "核桃多少钱", user="b1", role="buyer")
    assert r.error_code == "unknown_product" and r.reply == "没有核桃。我们有：绿松石手链，绿松石耳环，蜂蜜。"
    r = say(db, config, "今天天气怎么样", user="b1", role="buyer")
    assert r.intent.name == "unknown" and "帮助" in r.reply


def test_an_empty_shop_says_it_has_nothing_yet_and_names_nothing(db, config):
    r = say(db, config, "核桃多少钱", user="b1", role="buyer")
    assert r.error_code == "unknown_product" and r.reply == "没有核桃。店里现在还没有东西卖。"
    assert "我们有" not in r.reply


# --- photos -------------------------------------------------------------------------------------------


def _jpeg(color: str | tuple[int, int, int] = (0, 160, 150)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, "JPEG")
    return buf.getvalue()


def test_photo_then_product_name_attaches_it_and_buyers_see_it(db, config, shop):
    photo = shop.store_photo(_jpeg())
    r = note_photo(db, "wechat", "boss", photo["id"], config=config, now=T0)
    assert r.awaiting == "product" and "照片" in r.reply
    r = say(db, config, "这是绿松石手链", now=T0 + 5)
    assert r.committed and [p["id"] for p in shop.product_photos("绿松石手链")] == [photo["id"]]
    r = say(db, config, "绿松石手链多少钱", user="b1", role="buyer", now=T0 + 6)
    assert r.photo_product == "绿松石手链" and "两百块" in r.reply
    r = say(db, config, "蜂蜜多少钱", user="b1", role="buyer", now=T0 + 7)
    assert r.photo_product is None


def test_photo_right_after_talking_about_a_product_goes_to_it(db, config, shop):
    say(db, config, "上架核桃三十块一斤库存五十斤", now=T0)
    photo = shop.store_photo(_jpeg())
    r = note_photo(db, "wechat", "boss", photo["id"], config=config, now=T0 + 60)
    assert r.committed and "核桃" in r.reply and "撤销" in r.reply
    assert [p["id"] for p in shop.product_photos("核桃")] == [photo["id"]]
    r = say(db, config, "撤销", now=T0 + 70)
    assert shop.product_photos("核桃") == []
    later = shop.store_photo(_jpeg("red"))
    r = note_photo(db, "wechat", "boss", later["id"], config=config, now=T0 + 70 + 301)
    assert not r.committed and r.awaiting == "product"  # too long ago: she is asked which product
