"""A turn's words are read once (``nlu.heard.Heard``): normalised once, and every later question of the dialogue
(which product? which number? a command of its own?) asks that reading instead of the raw text."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from voicebot.dialogue import handle_turn
from voicebot.lang import language
from voicebot.nlu import normalize as normalize_module
from voicebot.nlu.heard import Heard

T0 = 1_773_000_000.0


def _normalised(db, config, turns: list[tuple[str, str]]) -> list[int]:
    """How often each turn's own text went through ``normalize``."""
    code, seen, counts = normalize_module.normalize.__code__, Counter(), []

    def watch(frame, event, _arg):
        if event == "call" and frame.f_code is code:
            seen[frame.f_locals.get("text")] += 1

    for i, (role, text) in enumerate(turns):
        seen.clear()
        sys.setprofile(watch)
        try:
            handle_turn(db, config, channel="wechat", user_id="boss" if role == "seller" else "b1", role=role,
                        lang="zh", text=text, confidence=None, now=T0 + i)
        finally:
            sys.setprofile(None)
        counts.append(seen[text])
    return counts


def test_each_turn_is_normalised_once(db, config, shop):
    turns = [("seller", "卖了两条手链给张三"), ("seller", "上架核桃"), ("seller", "五十斤"), ("seller", "三十五块"),
             ("seller", "蜂蜜还有几瓶"), ("buyer", "我要两瓶蜂蜜"), ("seller", "不对，是三瓶"), ("seller", "进货五瓶")]
    assert _normalised(db, config, turns) == [1] * len(turns)  # before the reading: 5, 5, 6, 7, 5, 5, 6, 6


@pytest.mark.parametrize(("lang", "said", "names", "product"), [
    ("zh", "绿松实手链", ["绿松石手链", "绿松石耳环"], "绿松石手链"), ("zh", "手链", ["绿松石手链", "银手链"], None),
    ("en", "the honey please", ["honey", "walnuts"], "honey")])  # fmt: skip
def test_the_reading_finds_the_one_product_named(lang, said, names, product):
    assert Heard.read(said, lang).product(names) == product


def test_a_number_inside_a_name_is_not_a_product_when_asked_outside_numbers():
    heard = Heard.read("十二瓶", "zh")
    assert heard.product(["耳环", "蜂蜜"], outside_numbers=True) is None
    assert heard.number() == (12, False) and heard.unit() == "瓶"
    assert Heard.read("两百块", "zh").number(money=True) == (200, False)
    assert Heard.read("八十斤", "zh").number(money=True) is None  # a weight does not answer "多少钱？"


def test_candidates_are_picked_by_position_or_by_a_word_only_one_has():
    both = ["绿松石手链", "银手链"]
    assert Heard.read("第二个", "zh").candidate(both) == "银手链"
    assert Heard.read("银的", "zh").candidate(both) == "银手链"
    assert Heard.read("手链", "zh").candidate(both) is None
    assert Heard.read("the silver one", "en").candidate(["turquoise bracelet", "silver bracelet"]) == "silver bracelet"


def test_an_answer_with_its_own_command_words_is_a_command():
    assert Heard.read("进货五瓶", "zh").says_command("seller", "add_stock")
    assert not Heard.read("三十块一斤", "zh").says_command("seller", "add_product")


def test_the_words_left_over_name_an_unknown_product():
    assert Heard.read("核桃多少钱", "zh").leftover_name("ask_price") == "核桃"
    assert Heard.read("how much are the walnuts", "en").leftover_name("ask_price") == "walnuts"


def test_english_numbers_run_together_are_read_not_fatal():
    """"sixty five twenty" (a price and a count without a pause) once crashed the English number reader (the
    NLU reads such a sentence clause by clause; a reading of the whole must not fail)."""
    found = language("en").find_numbers("add wooden spoon sixty five twenty pieces")
    assert found and found[0].text.startswith("sixty five")
