"""Spoken numbers: every colloquial form the shop hears, and the words that only look like numbers."""

from __future__ import annotations

import pytest

from voicebot.nlu.normalize import normalize
from voicebot.nlu.numbers import find_numbers, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("两百", 200), ("一百八", 180), ("两千五", 2500), ("两百二", 220), ("一千二", 1200), ("两百五十块", 250),
        ("十五", 15), ("二十", 20), ("一万五", 15000), ("三百零五", 305), ("200元", 200), ("俩", 2), ("仨", 3),
        ("两块五", 2.5), ("一块五毛", 1.5), ("三毛", 0.3), ("五毛钱", 0.5), ("一点五", 1.5),
    ],
)  # fmt: skip
def test_chinese_numbers(text: str, value: float) -> None:
    found = parse_number(text, "zh")
    assert found is not None and found.value == value and not found.approximate


@pytest.mark.parametrize(("text", "value"), [("十来个", 10), ("二十多", 20), ("十几个", 10), ("一百多块", 100)])
def test_chinese_approximate_numbers_are_flagged(text: str, value: int) -> None:
    found = parse_number(text, "zh")
    assert found == (value, True)


@pytest.mark.parametrize("text", ["十分好", "等一下", "一点", "我们一起去", "万一没有", "再说一遍", "一样的", "几个"])
def test_chinese_non_quantities_are_rejected(text: str) -> None:
    assert find_numbers(normalize(text, "zh"), "zh") == []


def test_price_per_unit_is_two_numbers_with_units() -> None:
    found = find_numbers(normalize("三十 块 一 斤", "zh"), "zh")
    assert [(n.value, n.kind) for n in found] == [(30, "money"), (1, "count")]
    # 四十五一瓶: the run splits into the price and the unit
    assert [n.value for n in find_numbers("四十五一瓶", "zh")] == [45, 1]
    # a tenths digit after 块 is only read when no counter follows
    assert [n.value for n in find_numbers("一百五十块二十个", "zh")] == [150, 20]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("two hundred and twenty", 220), ("one hundred fifty", 150), ("twenty five", 25), ("a dozen", 12),
        ("a couple", 2), ("one fifty", 150), ("a hundred", 100), ("two dozen", 24), ("5", 5), ("$20", 20),
        ("two dollars fifty", 2.5), ("fifty cents", 0.5), ("seventeen", 17),
    ],
)  # fmt: skip
def test_english_numbers(text: str, value: float) -> None:
    found = parse_number(text, "en")
    assert found is not None and found.value == value


def test_english_details() -> None:
    assert parse_number("about twenty", "en") == (20, True)
    assert parse_number("a jar of honey", "en") == (1, False)
    assert find_numbers("this one is nice", "en") == []
    # "thirty dollars fifty in stock" is a price and a stock count, not 30.50
    assert [n.value for n in find_numbers("thirty dollars fifty in stock", "en")] == [30, 50]


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("사과 두 개", 2, "count"), ("한 개", 1, "count"), ("열두 개", 12, "count"), ("스물다섯 개", 25, "count"),
        ("삼천 원", 3000, "money"), ("만 원", 10000, "money"), ("만오천원", 15000, "money"), ("백팔 원", 108, "money"),
        ("5개", 5, "count"),
    ],
)  # fmt: skip
def test_korean_numbers(text: str, value: int, kind: str) -> None:
    (found,) = find_numbers(normalize(text, "ko"), "ko")
    assert (found.value, found.kind) == (value, kind)


@pytest.mark.parametrize("text", ["사과 얼마 예요", "주세요", "네"])
def test_korean_syllables_without_a_unit_are_not_numbers(text: str) -> None:
    assert find_numbers(normalize(text, "ko"), "ko") == []


def test_parse_number_prefers_the_asked_slot() -> None:
    assert parse_number("两块五一斤", "zh", money=True) == (2.5, False)
    assert parse_number("十条", "zh") == (10, False)


def test_colloquial_forms_added_for_the_wider_corpus() -> None:
    # 块 after a price is a piece, not tenths: 十五块一块 is 15 (a bar), not 15.1
    assert [n.value for n in find_numbers("十五块一块五十块", "zh")] == [15, 1, 50]
    assert parse_number("一块五毛", "zh") == (1.5, False)
    # "twelve fifty" is dollars and cents; "one fifty" stays 150
    assert parse_number("twelve fifty", "en") == (12.5, False)
    assert parse_number("one fifty", "en") == (150, False)
    # fillers and colloquial spellings are rewritten before matching
    assert normalize("um gimme two honey", "en") == "give me two honey"
    assert normalize("手链 咋 卖", "zh") == "手链怎么卖"
