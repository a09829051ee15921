"""Product matching: exact, partial, plural/singular, homophones, not found, ambiguous ties."""

from __future__ import annotations

from voicebot.nlu.matching import find_product, match_product

ZH = ["绿松石手链", "绿松石耳环", "绿松石项链", "茶叶", "蜂蜜", "香菇"]
EN = ["turquoise bracelet", "turquoise earrings", "turquoise necklace", "green tea", "honey", "mushrooms"]


def test_exact() -> None:
    r = match_product("蜂蜜", ZH, "zh")
    assert (r.product, r.score, r.ambiguous) == ("蜂蜜", 100.0, False)
    assert match_product("green tea", EN, "en").product == "green tea"


def test_partial_names_the_only_product_that_fits() -> None:
    assert match_product("手链", ZH, "zh").product == "绿松石手链"
    assert match_product("necklace", EN, "en").product == "turquoise necklace"


def test_plural_and_singular() -> None:
    assert match_product("bracelets", EN, "en").product == "turquoise bracelet"
    assert match_product("earring", EN, "en").product == "turquoise earrings"
    assert match_product("mushroom", EN, "en").product == "mushrooms"


def test_homophones_from_asr() -> None:
    assert match_product("绿松实手链", ZH, "zh").product == "绿松石手链"
    assert match_product("风蜜", ZH, "zh").product == "蜂蜜"
    assert match_product("绿松石首联", ZH, "zh").product == "绿松石手链"
    assert match_product("想菇", ZH, "zh").product == "香菇"


def test_not_found() -> None:
    r = match_product("核桃", ZH, "zh")
    assert r.product is None and not r.ambiguous and r.candidates == []
    assert match_product("walnuts", EN, "en").product is None
    assert match_product("今天天气", ZH, "zh").product is None


def test_ambiguous_tie_reports_every_candidate() -> None:
    r = match_product("绿松石", ZH, "zh")
    assert r.product is None and r.ambiguous
    assert sorted(r.candidates) == sorted(["绿松石手链", "绿松石耳环", "绿松石项链"])
    r = match_product("手链", ["绿松石手链", "银手链"], "zh")
    assert r.ambiguous and sorted(r.candidates) == ["绿松石手链", "银手链"]
    assert match_product("turquoise", EN, "en").ambiguous


def test_find_product_in_a_sentence() -> None:
    r = find_product("绿松实手链怎么卖", ZH, "zh")
    assert (r.product, r.spoken, r.span) == ("绿松石手链", "绿松实手链", (0, 5))
    assert find_product("mary bought three packs of green tea", EN, "en").product == "green tea"
    assert find_product("今天天气怎么样", ZH, "zh").product is None
    # the longer, exact mention wins over a partial one elsewhere
    assert find_product("绿松石耳环还有几个", ZH, "zh").product == "绿松石耳环"


def test_nested_names_prefer_the_fuller_mention() -> None:
    # whichever order the catalog lists them in
    for catalog in (["木耳", "黑木耳"], ["黑木耳", "木耳"]):
        assert find_product("黑木耳还有多少", catalog, "zh").product == "黑木耳"
        assert find_product("木耳还有多少", catalog, "zh").product == "木耳"
    assert find_product("how much honey soap is left", ["honey", "honey soap"], "en").product == "honey soap"
    assert find_product("how much honey is left", ["honey", "honey soap"], "en").product == "honey"
    chili = ["chili", "red chili sauce"]
    assert find_product("one bottle of chili sauce please", chili, "en").product == "red chili sauce"
    assert find_product("how much chili is left", chili, "en").product == "chili"


def test_short_form_of_a_name() -> None:
    assert match_product("草帽", ["草编帽", "竹席"], "zh").product == "草编帽"
    assert match_product("草席", ["草编帽", "竹席"], "zh").product is None
