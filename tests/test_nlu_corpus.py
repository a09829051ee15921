"""The development corpus through the real ``voicebot nlu --batch`` command, with a per-intent confusion table."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

CORPUS = Path("/work/shared/data/nlu_dev.jsonl")
VOICEBOT = Path(sys.executable).with_name("voicebot")


def _batch(lines: list[str]) -> list[dict]:
    p = subprocess.run(
        [str(VOICEBOT), "nlu", "--batch"], input="\n".join(lines) + "\n", capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in p.stdout.splitlines()]


def confusion_table(pairs: list[tuple[str, str]]) -> str:
    """Rows: expected intent; columns: what came back (only the intents that occur)."""
    labels = sorted({e for e, _ in pairs} | {g for _, g in pairs})
    counts = Counter(pairs)
    width = max(len(x) for x in labels) + 1
    head = "expected \\ got".ljust(width) + " ".join(label[:6].rjust(6) for label in labels)
    rows = [head]
    for e in labels:
        if any(ee == e for ee, _ in pairs):
            rows.append(e.ljust(width) + " ".join(str(counts[(e, g)] or ".").rjust(6) for g in labels))
    return "\n".join(rows)


def test_dev_corpus_exact_on_all_five_keys(capsys: pytest.CaptureFixture[str]) -> None:
    lines = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [json.loads(line) for line in lines]
    results = _batch(lines)
    assert len(results) == len(cases)
    exact = 0
    misses = []
    for case, got in zip(cases, results, strict=True):
        assert set(got) == {"intent", "product", "quantity", "price", "customer"}
        if got == case["expect"]:
            exact += 1
        else:
            misses.append(f"  {case['lang']} {case['role']} {case['text']!r}\n    got {got}\n    exp {case['expect']}")
    pairs = [(c["expect"]["intent"], g["intent"]) for c, g in zip(cases, results, strict=True)]
    with capsys.disabled():  # always visible in CI output, not only with -s
        print(f"\nNLU dev corpus: {exact}/{len(cases)} exact on all five keys ({exact / len(cases):.1%})")
        print(confusion_table(pairs))
        print("\n".join(misses))
    assert exact / len(cases) >= 0.95


def test_batch_keeps_order_ignores_extra_keys_and_uses_each_lines_catalog() -> None:
    lines = [
        json.dumps({"lang": "en", "role": "buyer", "products": "honey,green tea", "text": "how much is the honey",
                    "expect": "ignored", "id": 7}),
        json.dumps({"lang": "zh", "role": "seller", "products": "蜂蜜", "text": "风蜜 还有 几 瓶"}),
        json.dumps({"lang": "zh", "role": "buyer", "products": "", "text": "有什么卖的"}),
    ]  # fmt: skip
    assert _batch(lines) == [
        {"intent": "ask_price", "product": "honey", "quantity": None, "price": None, "customer": None},
        {"intent": "check_stock", "product": "蜂蜜", "quantity": None, "price": None, "customer": None},
        {"intent": "list_products", "product": None, "quantity": None, "price": None, "customer": None},
    ]
