"""Candidate readings for Whisper's rescoring, and the rule that picks one (no model needed here)."""

from __future__ import annotations

from voicebot.asr.confidence import DIALOGUE_THRESHOLD
from voicebot.asr.rescoring import candidates, capped, choose, near_readings

SHOP = ["绿松石手链", "蜂蜜", "茶叶", "核桃", "香菇", "张三", "李四"]


def test_cue_words_and_catalog_names_heard_with_other_characters_become_candidates() -> None:
    assert "核桃多少钱一斤。" in candidates("核桃多少前一斤。", [], "zh", SHOP)
    assert "有什么卖的?" in candidates("又什么麦的?", [], "zh", SHOP)
    assert "取消订单。" in candidates("起销定单。", [], "zh", SHOP)
    assert candidates("河桃加五斤", [], "zh", SHOP)[:2] == ["河桃加五斤", "核桃加五斤"]  # the free one first


def test_near_sounds_one_syllable_off_are_candidates_but_numerals_are_never_rewritten() -> None:
    assert near_readings("上架核桃30块一斤,护存50斤。", "zh", ["库存"]) == ["上架核桃30块一斤,库存50斤。"]
    assert near_readings("核桃加五斤", "zh", ["五瓶"]) == []  # 五斤 stays a number of jin
    assert near_readings("下架香菇", "zh", ["香菇"]) == []  # already said right
    assert near_readings("今天天气好", "zh", ["蜂蜜"]) == []  # nothing like it


def test_one_candidate_per_reading_the_nlu_tells_apart_free_spelling_first() -> None:
    got = candidates("蜂蜜改成三十五块。", ["蜂蜜改成三十五块", "蜂蜜改成三十五块!", "蜂蜜的重三十五块。"], "zh", SHOP)
    assert got[0] == "蜂蜜改成三十五块。"
    assert got.count("蜂蜜改成三十五块") == 0 and "蜂蜜的重三十五块。" in got


def test_a_candidate_replaces_the_free_transcript_only_by_the_margin() -> None:
    scores = {"核桃多少前一斤。": -9.0, "核桃多少钱一斤。": -6.0, "核桃多少钱一斤吗": -12.0}
    assert choose("核桃多少前一斤。", scores, margin=2.0) == "核桃多少钱一斤。"
    assert choose("核桃多少前一斤。", scores, margin=4.0) == "核桃多少前一斤。"
    assert choose("核桃多少钱一斤。", scores, margin=2.0) == "核桃多少钱一斤。"  # the free one is best
    assert choose("没有分数", scores) == "没有分数"


def test_a_rescored_reading_is_read_back_before_a_shop_change() -> None:
    assert capped(0.95) < DIALOGUE_THRESHOLD and capped(None) < DIALOGUE_THRESHOLD
    assert capped(0.2) == 0.2
