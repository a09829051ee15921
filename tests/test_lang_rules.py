"""The parsing rules a language answers for itself (voicebot/lang): code outside lang/ asks, never tests a script."""

from __future__ import annotations

from pathlib import Path

import voicebot
from voicebot.lang import language, strip_ends


def test_a_name_gives_back_the_numerals_of_the_number_after_it() -> None:
    zh = language("zh")
    # 卖给老王二十斤: the pattern took 老王二; 老王 is a whole form of address, so 二十斤 is the amount, surely
    assert zh.name_before_number("老王二", (2, 5), "卖给老王二十斤") == ("老王", (2, 4), False)
    # 卖给王二十斤: 王二 and 十斤, or 王 and 二十斤: unsure, so the dialogue reads it back
    assert zh.name_before_number("王二", (2, 4), "卖给王二十斤") == ("王二", (2, 4), True)
    # a language with spaced words keeps the name as the pattern took it
    assert language("en").name_before_number("john", (8, 12), "sold to john two jars") == ("john", (8, 12), False)


def test_a_lone_character_names_the_products_it_heads_or_ends() -> None:
    zh = language("zh")
    assert zh.lone_char("油 卖了两桶", "油卖了两桶", ["菜籽油", "核桃"]) == ("油", 0, ["菜籽油"])
    assert zh.lone_char("茶 还有吗", "茶还有吗", ["红茶", "绿茶"]) == ("茶", 0, ["红茶", "绿茶"])
    assert zh.lone_char("两 卖了", "两卖了", ["两面针"]) is None  # a numeral is no product
    assert language("en").lone_char("oil sold", "oil sold", ["oil"]) is None


def test_numerals_inside_names_are_part_of_the_name() -> None:
    zh, en = language("zh"), language("en")
    assert zh.numeral_name_spans("三七粉卖了两斤", ["三七粉", "核桃"]) == [(0, 3)]
    assert en.numeral_name_spans("seven grain bread sold two", ["seven grain bread", "honey"]) == [(0, 17)]
    text = "上架腊八蒜十块"
    assert [zh.numeral_in_name(text, n) for n in zh.find_numbers(text)] == [True, False]  # 八 of 腊八蒜, not 十块
    text = "add product seven grain cookies ten yuan"
    assert [en.numeral_in_name(text, n) for n in en.find_numbers(text)] == [True, False]
    text = "add product seven jars of honey"
    assert [en.numeral_in_name(text, n) for n in en.find_numbers(text)] == [False]


def test_word_order_questions_differ_by_language() -> None:
    zh, en = language("zh"), language("en")
    assert zh.bare_price_after_one and not en.bare_price_after_one  # 一只一百二
    assert en.price_after_product and not zh.price_after_product  # sold the necklace for two hundred
    assert (en.loose_form("kiwis"), en.match_form("kiwis")) == ("kiwi", "kiwis")
    assert zh.loose_form("kiwis") == "kiwis"


def test_strip_ends_takes_the_first_listed_end_again_and_again() -> None:
    assert strip_ends("好的吧了", "吧了") == "好的"
    assert strip_ends("了", "了") == "了"  # never down to nothing
    assert strip_ends("mary's shop", ["'s shop", "'s", " shop"]) == "mary"
    assert strip_ends("honey please", ["please"]) == "honey"


def test_no_script_branch_outside_lang() -> None:
    root = Path(voicebot.__file__).parent
    branching = [
        str(p.relative_to(root)) for p in sorted(root.rglob("*.py"))
        if p.relative_to(root).parts[0] != "lang" and ".script" in p.read_text(encoding="utf-8")
    ]  # fmt: skip
    assert branching == []
