"""Finding a shop by voice, as text: the corpus (tune and held-out halves) and the guarantee that a
buyer talking to her shop is never taken elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from voicebot.village.finder import ShopEntry, find_shop, short_list, supported

DATA = Path(__file__).parent / "data"
CORPUS = yaml.safe_load((DATA / "village_finding.yaml").read_text(encoding="utf-8"))


def village(lang: str) -> list[ShopEntry]:
    return [ShopEntry(i, name, sellers=tuple(s), products=tuple(p), activity=10 - i)
            for i, name, s, p in CORPUS["villages"][lang]]


def outcome(text: str, lang: str, current: int | None) -> tuple[str, list[int]]:
    found = find_shop(text, lang, village(lang), current)
    return ("none", []) if found is None else (found.kind, sorted(e.shop_id for e in found.shops))


@pytest.mark.parametrize("split", ["tune", "heldout"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_corpus(split, lang):
    cases = CORPUS[split][lang]
    wrong = [(text, current, kind, ids, outcome(text, lang, current)) for text, current, kind, ids in cases
             if outcome(text, lang, current) != (kind, sorted(ids))]
    assert not wrong, f"{split}/{lang}: {len(cases) - len(wrong)}/{len(cases)} right; wrong: {wrong}"


BUYER_CORPORA = ["nlu_extra.jsonl", "nlu_extra_round2.jsonl", "nlu_extra_round3.jsonl", "nlu_extra_round4.jsonl",
                 "voice_corpus_zh.jsonl", "voice_corpus_en.jsonl", "nlu_whisper_forms.jsonl"]
OWN_SHOP = {"zh": ("郭姐绿松石", "郭梅"), "en": ("Guo's Turquoise", "Mei Guo")}


def test_a_buyer_talking_to_her_shop_is_never_taken_elsewhere():
    """Every buyer utterance of the understanding corpora, said inside a shop of a five-shop village
    whose neighbours sell some of the same goods, stays with that shop."""
    said, moved = 0, []
    for name in BUYER_CORPORA:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            lang = case["lang"]
            if case.get("role") != "buyer" or lang not in OWN_SHOP:
                continue
            products = case["products"].split(",") if isinstance(case["products"], str) else case["products"]
            here = ShopEntry(1, OWN_SHOP[lang][0], sellers=(OWN_SHOP[lang][1],), products=tuple(products))
            found = find_shop(case["text"], lang, [here, *village(lang)[1:]], current=1)
            said += 1
            if found is not None:
                moved.append((case["text"], found.kind))
    assert said > 400
    assert moved == []


def test_what_the_finder_reads_out():
    zh = village("zh")
    found = find_shop("我要找卖蜂蜜的", "zh", zh)
    assert (found.kind, found.product, found.by) == ("choose", "蜂蜜", "product")
    assert [e.name for e in found.shops] == ["郭姐绿松石", "老李土特产"]  # the busier first
    assert find_shop("哪家卖土鸡蛋", "zh", zh).product == "土鸡蛋"
    assert find_shop("谁家有大米", "zh", zh).product == "大米"
    assert find_shop("去郭姐那家", "zh", zh).by == "seller"
    assert find_shop("过节那家", "zh", zh).shops[0].shop_id == 1  # 郭姐 as a recogniser may write it
    assert [e.shop_id for e in short_list(zh, 3)] == [1, 2, 3]
    assert len(short_list([ShopEntry(i, f"s{i}", activity=i) for i in range(40)])) == 5
    assert short_list([ShopEntry(i, f"s{i}", activity=i) for i in range(40)])[0].shop_id == 39


def test_languages_without_words_and_empty_input():
    assert supported("zh") and supported("en") and not supported("ko")
    assert find_shop("꿀 있어요", "ko", village("zh")) is None
    assert find_shop("去郭姐那家", "zh", []) is None
    assert find_shop("", "zh", village("zh"), current=1) is None
    assert find_shop("  ", "zh", village("zh")).kind == "unclear"
    long = "去" + "郭" * 5000 + "那家"
    assert find_shop(long, "zh", village("zh")).kind == "unclear"
    assert find_shop(long, "zh", village("zh"), current=2) is None
