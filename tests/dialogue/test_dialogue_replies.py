"""Numbers and prices said the way people say them, and the reply packs being complete."""

from __future__ import annotations

import re

import pytest

from voicebot.dialogue import replies


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (200, "两百块"),
        (2.5, "两块五"),
        (1.5, "一块五"),
        (0.3, "三毛"),
        (0.25, "两毛五"),
        (180, "一百八十块"),
        (2200, "两千两百块"),
        (12, "十二块"),
        (20, "二十块"),
        (1.05, "一块零五分"),
        (120000, "十二万块"),
    ],
)
def test_zh_prices(value, spoken):
    assert replies.price("zh", value) == spoken


@pytest.mark.parametrize(
    ("value", "currency", "spoken"),
    [
        (200, "CNY", "two hundred yuan"),
        (220, "CNY", "two hundred and twenty yuan"),
        (2.5, "USD", "two dollars fifty"),
        (1, "USD", "one dollar"),
        (0.3, "USD", "thirty cents"),
        (1500, "CNY", "one thousand five hundred yuan"),
    ],
)
def test_en_prices(value, currency, spoken):
    assert replies.price("en", value, currency) == spoken


def test_ko_numbers_and_prices():
    assert replies.price("ko", 2000, "KRW") == "이천 원"
    assert replies.price("ko", 12000, "KRW") == "만 이천 원"
    assert replies.quantity("ko", 2, "개") == "두 개"
    assert replies.quantity("ko", 20, "개") == "스무 개"
    assert replies.quantity("ko", 23, "개") == "스물세 개"


@pytest.mark.parametrize(
    ("n", "spoken"), [(2, "两条"), (10, "十条"), (12, "十二条"), (20, "二十条"), (200, "两百条")]
)
def test_zh_quantities_use_liang_before_a_measure_word(n, spoken):
    assert replies.quantity("zh", n, "条") == spoken


def test_en_quantities():
    assert replies.quantity("en", 21) == "twenty-one"
    assert replies.quantity("en", 105) == "one hundred and five"


def _keys(node, prefix=""):
    for k, v in node.items():
        if isinstance(v, dict):
            yield from _keys(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def test_every_language_has_every_reply_with_the_same_fields():
    zh = dict(_keys(replies.load_replies("zh")))
    for lang in ("en", "ko"):
        other = dict(_keys(replies.load_replies(lang)))
        assert set(other) == set(zh), lang
        for key, template in zh.items():
            if isinstance(template, str):
                fields = set(re.findall(r"\{(\w+)\}", template))
                assert set(re.findall(r"\{(\w+)\}", str(other[key]))) <= fields | {"unit"}, (lang, key)


def test_pipeline_messages_exist_for_every_audio_error_code():
    from voicebot.audio import errors

    codes = {c.code for c in vars(errors).values() if isinstance(c, type) and hasattr(c, "code")}
    for lang in ("zh", "en", "ko"):
        for code in codes:
            assert replies.say(lang, f"errors.audio_{code}").strip(), (lang, code)
        assert "小店" in replies.say(lang, "welcome", shop="小店", examples="")


def test_en_replies_are_grammatical_english(db, config, shop):
    from voicebot.dialogue import handle_turn

    shop.add_product("turquoise bracelet", 200, 10)
    shop.add_product("honey", 30, 20, "jar")

    def turn(text, role="seller", user="boss"):
        return handle_turn(db, config, channel="wechat", user_id=user, role=role, lang="en", text=text,
                           confidence=None, now=1_800_000_000.0).reply

    assert "sold two turquoise bracelets to john" in turn("sold two bracelets to john")
    sale = turn("sold three jars of honey")
    assert "sold three jars of honey" in sale and "seventeen jars left" in sale
    assert "one jar of honey" in turn("sold one jar of honey")
    assert "one turquoise bracelet," in turn("i want one bracelet", role="buyer", user="b1")
