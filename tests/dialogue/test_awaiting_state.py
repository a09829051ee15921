"""What a question waits for is typed (``Awaiting``), and a question stored before the type, as its plain
word, is still answered after an upgrade: her next turn goes on where the last version left off."""

from __future__ import annotations

import json

import pytest

from voicebot.dialogue import handle_turn
from voicebot.dialogue.awaiting import Awaiting
from voicebot.dialogue.state import load_state

T0 = 1_773_000_000.0


def _stored(db, pending: dict, user: str = "boss") -> None:
    """A state row the way the untyped dialogue wrote it: ``awaiting`` a plain word."""
    row = {"pending": {**pending, "expires": T0 + 600}, "last_reply": pending["question"]}
    db.raw["dialogue_state"].insert({"channel": "wechat", "user": user, "state_json": json.dumps(row, ensure_ascii=False),
                                     "expires_at": None, "updated_at": "2026-03-10T00:00:00.000000Z"})


def _say(db, config, text: str, role: str = "seller", user: str = "boss"):
    return handle_turn(db, config, channel="wechat", user_id=user, role=role, lang="zh", text=text,
                       confidence=None, now=T0)


def test_the_words_stored_before_the_type_are_its_values():
    assert {a.value for a in Awaiting} == {"product", "price", "quantity", "customer", "which", "confirm",
                                           "new_or_old", "more", "undo_offer"}
    assert Awaiting("confirm") is Awaiting.CONFIRM and json.dumps(Awaiting.CONFIRM) == '"confirm"'
    assert Awaiting.WHICH.slot == "product" and Awaiting.PRICE.slot == "price" and Awaiting.CONFIRM.slot is None
    assert not Awaiting.MORE.is_change and not Awaiting.UNDO_OFFER.is_change and Awaiting.QUANTITY.is_change


def test_a_stored_quantity_question_is_answered(db, config, shop):
    _stored(db, {"intent": {"intent": "record_sale", "product": "蜂蜜"}, "awaiting": "quantity", "question": "几瓶？"})
    assert load_state(db, "wechat", "boss")["pending"]["awaiting"] is Awaiting.QUANTITY
    r = _say(db, config, "三瓶")
    assert r.committed and r.intent.quantity == 3 and shop.product("蜂蜜")["stock"] == 17


def test_a_stored_price_question_is_answered(db, config, shop):
    _stored(db, {"intent": {"intent": "add_product", "product": "核桃", "quantity": 50, "unit": "斤"},
                 "awaiting": "price", "question": "多少钱？"})
    r = _say(db, config, "三十五块")
    assert r.committed and shop.product("核桃")["price_fen"] == 3500 and shop.product("核桃")["stock"] == 50


def test_a_stored_which_question_is_answered(db, config, shop):
    _stored(db, {"intent": {"intent": "ask_price", "candidates": ["绿松石手链", "绿松石耳环"]}, "awaiting": "which",
                 "question": "绿松石手链还是绿松石耳环？", "candidates": ["绿松石手链", "绿松石耳环"]}, user="b1")
    r = _say(db, config, "耳环", role="buyer", user="b1")
    assert r.intent.product == "绿松石耳环" and "一百二" in r.reply and r.awaiting is None


def test_a_stored_read_back_is_denied(db, config, shop):
    _stored(db, {"intent": {"intent": "set_price", "product": "蜂蜜", "price": 300}, "awaiting": "confirm",
                 "question": "蜂蜜改成三百块，对吗？"})
    r = _say(db, config, "不对")
    assert not r.committed and shop.product("蜂蜜")["price_fen"] == 3000
    assert load_state(db, "wechat", "boss")["pending"] is None


def test_a_stored_list_goes_on(db, config, shop):
    _stored(db, {"intent": {"intent": "list_products"}, "awaiting": "more", "question": "还有两样，要听吗？",
                 "items": ["甲一百块", "乙两百块"], "names": ["甲", "乙"], "sep": "list_sep"}, user="b1")
    r = _say(db, config, "要", role="buyer", user="b1")
    assert "甲一百块" in r.reply and "乙两百块" in r.reply and r.awaiting is None


@pytest.mark.parametrize("awaiting", ["gift_wrap", None])
def test_a_stored_question_waiting_for_something_unknown_is_dropped_not_fatal(db, config, shop, awaiting):
    _stored(db, {"intent": {"intent": "record_sale", "product": "蜂蜜"}, "awaiting": awaiting, "question": "?"})
    assert load_state(db, "wechat", "boss")["pending"] is None
    r = _say(db, config, "蜂蜜还有几瓶")
    assert r.error_code is None and "二十瓶" in r.reply


def test_a_question_is_stored_as_its_word(db, config, shop):
    r = _say(db, config, "卖了蜂蜜")
    assert r.awaiting is Awaiting.QUANTITY
    saved = json.loads(db.raw.execute("SELECT state_json FROM dialogue_state").fetchone()[0])
    assert saved["pending"]["awaiting"] == "quantity"
    assert r.to_dict()["awaiting"] == "quantity" and json.loads(json.dumps(r.to_dict()))["awaiting"] == "quantity"
