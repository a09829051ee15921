"""One turn's words, read once: normalised once, their numbers found once; the questions the dialogue asks
of an answer (which product? which number? a command of its own?) are asked of this reading, never of the
raw text again."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from voicebot.lang import Number, language
from voicebot.lang.packs import Pack, load_pack
from voicebot.nlu.matching import find_product
from voicebot.nlu.normalize import normalize
from voicebot.nlu.numbers import SpokenNumber, find_numbers, pick_number


@dataclass(frozen=True)
class Heard:
    """What was said (``text``), normalised (``norm``), and the numbers in it (offsets in ``norm``, found
    the first time they are asked for)."""

    text: str
    lang: str
    norm: str

    @classmethod
    def read(cls, text: str, lang: str) -> Heard:
        return cls(text, lang, normalize(text, lang))

    @functools.cached_property
    def numbers(self) -> tuple[Number, ...]:
        return tuple(find_numbers(self.norm, self.lang))

    @property
    def pack(self) -> Pack:
        return load_pack(self.lang)

    @functools.cached_property
    def number_spans(self) -> list[tuple[int, int]]:
        return [(n.start, n.end) for n in self.numbers]

    def number(self, money: bool = False) -> SpokenNumber | None:
        """A bare answer to "多少钱？" (``money``) or "几条？": "两百块", "十来个", "two fifty"."""
        return pick_number(list(self.numbers), money)

    def unit(self) -> str | None:
        """The counter said with a number ("五十斤" -> 斤, "三十块一斤" -> 斤), or None."""
        counted = [n for n in self.numbers if n.kind == "count" and n.unit]
        return counted[0].unit if counted else None

    def product(self, names: list[str], outside_numbers: bool = False) -> str | None:
        """The one catalog name mentioned (homophone-tolerant: "手链", "绿松实手链"), or None; with
        ``outside_numbers`` never inside a number ("十二瓶"'s 二 is not 耳环)."""
        if not names:
            return None
        skip = self.number_spans if outside_numbers else None
        found = find_product(self.norm, names, self.lang, exclude=skip)
        return found.product if found.product and not found.ambiguous else None

    def candidate(self, candidates: list[str]) -> str | None:
        """The candidate an answer to "which one?" means by position ("第二个", "the second") or by a word only
        that candidate has ("银的", "the silver one"); None when it does not pick exactly one."""
        if not candidates:
            return None
        speech = language(self.lang)
        for word, index in self.pack.ordinals.items():
            if speech.has_word(self.norm, word) and -len(candidates) <= index < len(candidates):
                return candidates[index]
        said = speech.word_set(self.norm)
        pieces = {c: speech.word_set(c) for c in candidates}
        hits = []
        for c, mine in pieces.items():
            others = set().union(*(p for o, p in pieces.items() if o != c))
            if (mine - others) & said:
                hits.append(c)
        return hits[0] if len(hits) == 1 else None

    def says_command(self, role: str, intent: str) -> bool:
        """The words hold the intent's own command words once numbers are taken out ("进货五瓶" does,
        "三十块一斤" does not): an action of its own, not a bare answer."""
        norm = self.norm
        for n in reversed(self.numbers):
            norm = norm[: n.start] + " " + norm[n.end :]
        norm = language(self.lang).compact(norm)
        return bool(norm) and any(r.intent == intent and role in r.roles and r.matches(norm) for r in self.pack.rules)

    def leftover_name(self, intent: str) -> str | None:
        """The words left once the intent's cue words and numbers are taken out ("核桃多少钱" -> "核桃"):
        what the user called a product the catalog does not have. None when nothing is left."""
        rules = [r for r in self.pack.rules if r.intent == intent]
        speech = language(self.lang)
        for frames in (True, False):
            # without frames: a pattern around the whole utterance (有…吗) says nothing about the name
            words = speech.name_words(self.norm, self._left_spans(rules, frames))
            words = [w for w in words if not any(r.matches(w) for r in rules)]  # never a command word (改成)
            if words:
                return speech.name_of(words)
        return None

    def _left_spans(self, rules: list, frames: bool) -> list[tuple[int, int]]:
        norm = self.norm
        spans = list(self.number_spans)
        for rule in rules:
            spans += [m.span() for p in rule.patterns for m in p.finditer(norm)
                      if frames or m.end() - m.start() < len(norm) - 1]  # fmt: skip
        return spans

