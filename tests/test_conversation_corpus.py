"""Conversation corpora (issue 18): the real dialogue driven turn by turn in fresh SQLite shops, every turn
scored right / asked / not understood / changed wrongly without asking."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from voicebot.cli.nlu import converse
from voicebot.testing.conversations import run_conversation

SHOP = [["蜂蜜", 60, 30, "瓶"], ["核桃", 30, 100, "斤"]]


def _outcomes(turns: list[dict], shop=SHOP, **conv) -> list[str]:
    return [t.outcome for t in run_conversation({"id": "t", "lang": "zh", "shop": shop, "turns": turns, **conv})]


def test_each_outcome_is_told_apart_by_the_shop_after_the_turn() -> None:
    sale = {"orders": [{"items": [["蜂蜜", 2]], "total": 120}]}
    assert _outcomes([
        {"say": "卖了两瓶蜂蜜", "expect": sale},  # the change said
        {"say": "今天天气不错", "expect": {"stock": {"蜂蜜": 5}}},  # nothing changed, nothing asked
        {"say": "下架核桃", "expect": {"removed": ["核桃"]}},  # read back first: a question, nothing changed
        {"say": "卖了三瓶蜂蜜", "expect": sale},  # changed, but not as said
        {"say": "蜂蜜多少钱"},  # no change expected, none made
    ]) == ["right", "missed", "asked", "wrong", "right"]  # fmt: skip


def test_a_wrong_change_after_a_read_back_she_agreed_to_is_counted_apart() -> None:
    assert _outcomes([
        {"say": "下架核桃", "expect": {"asks": True}},
        {"say": "对", "expect": {"removed": ["蜂蜜"]}},
    ]) == ["right", "wrong_asked"]  # fmt: skip


def test_stock_an_order_takes_is_not_a_separate_change_and_a_buyer_order_is_theirs() -> None:
    turns = [{"say": "我要三瓶蜂蜜", "expect": {"orders": [{"items": [["蜂蜜", 3]], "status": "pending"}]}}]
    assert _outcomes(turns, role="buyer") == ["right"]


def test_an_order_changed_or_undone_is_its_old_version_dropped() -> None:
    assert _outcomes([
        {"say": "卖了两瓶蜂蜜给张三", "expect": {"orders": [{"customer": "张三", "items": [["蜂蜜", 2]]}]}},
        {"say": "撤销", "expect": {"status": {1: "cancelled"}}},
    ]) == ["right", "right"]  # fmt: skip


def test_a_bare_yes_in_the_corpus_must_be_quoted() -> None:
    with pytest.raises(ValueError, match="quote it"):
        run_conversation({"id": "t", "shop": SHOP, "turns": yaml.safe_load("[{say: yes}]")})


def test_converse_prints_the_halves_and_fails_on_a_wrong_change(tmp_path: Path) -> None:
    good, bad = tmp_path / "tune.yaml", tmp_path / "heldout.yaml"
    good.write_text(yaml.safe_dump([{"id": "g", "lang": "zh", "shop": SHOP, "turns": [
        {"say": "卖了两瓶蜂蜜", "expect": {"orders": [{"items": [["蜂蜜", 2]]}]}}]}], allow_unicode=True))
    bad.write_text(yaml.safe_dump([{"id": "b", "lang": "zh", "shop": SHOP, "turns": [
        {"say": "卖了两瓶蜂蜜", "expect": {"orders": [{"items": [["蜂蜜", 3]]}]}}]}], allow_unicode=True))
    ok = CliRunner().invoke(converse, [str(good)])
    assert ok.exit_code == 0 and "tune: 1 turns — understood 1 (100%)" in ok.output
    r = CliRunner().invoke(converse, [str(good), str(bad)])
    assert r.exit_code == 1
    assert "[wrong] b seller> 卖了两瓶蜂蜜" in r.output
    assert "heldout: 1 turns — understood 0 (0%), asked 0, not understood 0, changed wrongly without asking 1" in r.output


CORPUS = Path(__file__).parent / "data" / "conversations"
# Understood-rate floors, each several turns below what the halves measure (tune 97%, heldout 95% with the
# dialogue half of issue 18 in), so that one changed reply does not fail CI while a real slide does.
FLOORS = {"tune": 0.88, "heldout": 0.86}


@pytest.mark.parametrize("half", sorted(FLOORS))
def test_no_everyday_sentence_changes_the_shop_wrongly_without_asking(half: str, capsys) -> None:
    from voicebot.testing.conversations import run_corpus

    report = run_corpus([CORPUS / f"{half}.yaml"])
    with capsys.disabled():  # always visible in CI output
        print("\n" + report.summary())
    wrong = [t.line() for t in report.turns if t.outcome == "wrong"]
    assert not wrong, "\n".join(wrong)
    assert len(report.turns) >= 75
    assert report.rate(half) >= FLOORS[half]


def test_dangerous_confusions_never_change_the_shop_unasked(capsys) -> None:
    """Issue 19: each known mishearing, as voice with a high confidence, comes out exactly as its conversation
    says (a question answered, a change read back and made once after yes, nothing after no)."""
    from voicebot.testing.conversations import run_corpus

    report = run_corpus([CORPUS / "confusions.yaml"])
    with capsys.disabled():
        print("\n" + report.summary())
    assert len(report.turns) >= 70
    off = [t.line() for t in report.turns if t.outcome != "right"]
    assert not off, "\n".join(off)
