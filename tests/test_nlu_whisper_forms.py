"""The NLU reads what Whisper writes: digits, decimals, punctuation, traditional characters, 1,000."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voicebot.lang.zh import to_simplified
from voicebot.nlu import understand
from voicebot.nlu.normalize import normalize
from voicebot.nlu.numbers import find_numbers

CORPUS = Path(__file__).parent / "data" / "nlu_whisper_forms.jsonl"


def _cases() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["text"])
def test_whisper_written_command_is_understood(case: dict) -> None:
    customers = case["customers"].split(",") if "customers" in case else None  # the shop's known customers
    got = understand(case["text"], case["lang"], case["role"], case["products"].split(","), customers=customers)
    assert got.to_contract() == case["expect"]


def test_traditional_characters_become_simplified() -> None:
    assert to_simplified("今天賣了多少錢？綠松石手鏈") == "今天卖了多少钱？绿松石手链"
    assert to_simplified("honey 30") == "honey 30"
    assert normalize("蜂蜜多少錢一瓶？", "zh") == "蜂蜜多少钱一瓶"


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [("３０块", 30, "money"), ("2.5元", 2.5, "money"), ("3万块", 30000, "money"), ("1千2百块", 1200, "money"),
     ("1块5", 1.5, "money"), ("10块5毛", 10.5, "money"), ("1,000块", 1000, "money"), ("卖了2条", 2, "count")],
)
def test_zh_digit_forms_are_read_as_numbers(text: str, value: float, kind: str) -> None:
    (n, *_) = find_numbers(normalize(text, "zh"), "zh")
    assert (n.value, n.kind) == (value, kind)


def test_a_digit_after_kuai_that_counts_something_is_not_jiao() -> None:
    numbers = find_numbers(normalize("卖了3块2条", "zh"), "zh")
    assert [(n.value, n.kind) for n in numbers] == [(3, "money"), (2, "count")]


def test_english_thousands_separator() -> None:
    (n,) = find_numbers(normalize("Add 1,000 jars", "en"), "en")
    assert n.value == 1000


@pytest.mark.parametrize("text", ["卖了三瓶蜂蜜的李四。", "卖这王五两斤核桃。", "賣了两条手链、李张三。", "卖了两条手链李四"])
def test_a_name_after_a_misheard_to_is_read_back_and_is_no_price(text: str) -> None:
    # 给 written 的 / 这 / 李, or left out: the name is heard only by guess, so the sale is read back first,
    # and the 四 of 李四 is never a price of 4
    it = understand(text, "zh", "seller", ["绿松石手链", "蜂蜜", "茶叶", "核桃", "香菇"])
    assert it.name == "record_sale" and it.customer and it.approximate and it.price is None


@pytest.mark.parametrize(("text", "approximate"), [("賣了三瓶蜂蜜給李", True), ("賣了三瓶蜂蜜的", True),
                                                   ("卖了三瓶蜂蜜", False), ("卖了两斤核桃，甜的", False)])
def test_a_sale_whose_name_was_cut_off_is_read_back(text: str, approximate: bool) -> None:
    it = understand(text, "zh", "seller", ["绿松石手链", "蜂蜜", "茶叶", "核桃", "香菇"])
    assert it.name == "record_sale" and it.customer is None and it.approximate is approximate


CUSTOMERS = ["张三", "李四", "王五"]


@pytest.mark.parametrize(("text", "customer", "unsure", "approximate"), [
    ("卖了两条手链给江山。", "张三", True, False),  # a known customer by her sound only: read back
    ("卖了三瓶蜂蜜的理事。", "李四", True, True),  # by sound, after a misheard "to"
    ("卖了两条手链给张三", "张三", False, False),  # as she calls her: no question
    ("卖了三瓶蜂蜜的李四。", "李四", False, False),  # her own name after a misheard "to": no guess
    ("卖这王五两斤核桃。", "王五", False, False),
    ("卖这王五十斤核桃。", "王五", False, True),  # 王五 and 十斤, or 王 and 五十斤: read back
    ("麦祭王五两金核桃。", "王五", False, True),  # the sale itself only guessed from 麦 (卖's sound): read back
    ("卖了三瓶蜂蜜的赵六。", "赵六", False, True),  # a new name after a misheard "to" stays a guess
    ("卖了两斤核桃给赵六", "赵六", False, False),  # a new name said plainly is a new customer
])
def test_a_known_customer_heard_by_sound_is_read_back_and_by_name_is_not(
    text: str, customer: str, unsure: bool, approximate: bool
) -> None:
    it = understand(text, "zh", "seller", ["绿松石手链", "蜂蜜", "茶叶", "核桃", "香菇"], customers=CUSTOMERS)
    assert (it.name, it.customer, it.unsure, it.approximate) == ("record_sale", customer, unsure, approximate)


def test_a_name_that_sounds_like_two_known_customers_is_read_back_as_heard() -> None:
    it = understand("卖了两斤核桃给张山", "zh", "seller", ["核桃"], customers=["张三", "章三"])
    assert (it.customer, it.unsure) == ("张山", True)


def test_a_price_tail_is_no_customer() -> None:
    # 八毛五 is 0.85 yuan: its 毛五 (毛 is a surname) is no customer, known customers or not
    for customers in (None, [], CUSTOMERS):
        it = understand("卖了两斤核桃八毛五", "zh", "seller", ["核桃"], customers=customers)
        assert (it.customer, it.price, it.quantity) == (None, 0.85, 2)
