"""Score a recogniser on a spoken corpus: intent+slot exact match (via the NLU) and CER.

A corpus line has the form of ``shared/data/nlu_dev.jsonl``: lang, role, products, text, expect.
CER is computed on normalised text (simplified characters, no punctuation or spaces, Arabic
numbers read as Chinese numerals, 两 as 二), so "蜂蜜30块" scores as "蜂蜜三十块".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cn2an
from rapidfuzz.distance import Levenshtein

from voicebot.lang.zh import to_simplified
from voicebot.nlu import understand


def load_corpus(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def cer_text(text: str, lang: str) -> str:
    text = to_simplified(text).lower() if lang == "zh" else text.lower()
    if lang == "zh":
        text = re.sub(r"\d+(?:\.\d+)?", lambda m: cn2an.an2cn(m.group()), text).replace("两", "二")
        return re.sub(r"[\W_]+", "", text)
    return " ".join(re.sub(r"[^\w' ]+", " ", text).split())


def error_rate(ref: str, hyp: str, lang: str) -> tuple[int, int]:
    """(edits, reference length): characters for zh, words otherwise."""
    r, h = cer_text(ref, lang), cer_text(hyp, lang)
    if lang != "zh":
        return Levenshtein.distance(r.split(), h.split()), len(r.split())
    return Levenshtein.distance(r, h), len(r)


@dataclass
class Score:
    cases: int = 0
    exact: int = 0
    edits: int = 0
    ref_units: int = 0
    misses: list[str] = field(default_factory=list)
    customers: list[str] | None = None  # the shop's known customers (those the recogniser was prompted with)

    @property
    def exact_rate(self) -> float:
        return self.exact / self.cases if self.cases else 0.0

    @property
    def error_rate(self) -> float:
        return self.edits / self.ref_units if self.ref_units else 0.0

    def add(self, case: dict[str, Any], heard: str, voice: str = "") -> bool:
        got = understand(heard, case["lang"], case["role"], case["products"].split(","),
                         customers=self.customers).to_contract()
        edits, units = error_rate(case["text"], heard, case["lang"])
        self.cases += 1
        self.edits += edits
        self.ref_units += units
        ok = got == case["expect"]
        self.exact += ok
        if not ok:
            self.misses.append(f"{voice} {case['text']!r} heard {heard!r} -> {got['intent']} {got['product']}")
        return ok

    def summary(self, label: str) -> str:
        unit = "CER"
        return f"{label}: exact {self.exact}/{self.cases} ({self.exact_rate:.0%}), {unit} {self.error_rate:.2f}"
