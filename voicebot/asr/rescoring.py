"""Choosing among what Whisper could have heard, by the recogniser's own scores (issue 19, item 2).

Whisper's beam keeps several hypotheses; the free transcript is the best of them. Mandarin misses are
mostly sounds written with the wrong characters (河桃 for 核桃, 多少前 for 多少钱), so every hypothesis is
also read by sound as the shop's words: its products and customers (the names that steer it), the pack's
cue words, numbers with their counters (:func:`voicebot.nlu.sounds.sound_repairs`). Each distinct
candidate is then forced through the decoder on the same encoder output (CTranslate2's
``Whisper.align``, one batched pass) and scored by its tokens' total log-probability, end of text
included. A candidate replaces the free transcript only when it beats it by :data:`MARGIN` nats; it is
then read back before any shop change (:func:`capped`).

The hooks (:func:`listen`) keep the decode's encoder output and the beam's other hypotheses on the loaded
model, so nothing is decoded twice. Only notes of one 30-second window are rescored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicebot.asr.confidence import DIALOGUE_THRESHOLD
from voicebot.nlu.normalize import normalize
from voicebot.nlu.sounds import sound_key, sound_repairs, sound_rules

MAX_SECONDS = 30.0  # one Whisper window: its encoder output is the one kept
MARGIN = 2.0  # nats a candidate must beat the free transcript by (tuned on the corpus's tuning half)
MAX_CANDIDATES = 3  # each costs a decoder pass over the whole window (4: 22 % of the decode)
PROBABILITY_FLOOR = 1e-9
PROMPT_TOKENS = 224  # Whisper keeps at most this many prompt tokens (faster-whisper's max_length // 2)


@dataclass
class _Kept:
    """What the last decode left on a model: the encoder output and the beam's hypotheses, per window."""

    encoded: list[Any] = field(default_factory=list)
    hypotheses: list[list[list[int]]] = field(default_factory=list)
    scores: list[list[float]] = field(default_factory=list)  # each hypothesis's mean token log-probability
    frames: int = 0  # encode at most this many feature frames of a window (0: Whisper's whole 30 s)


class _Beams:
    """A CTranslate2 Whisper whose beam searches also return their other hypotheses (kept, not used
    by faster-whisper, which reads the first)."""

    def __init__(self, inner: Any, kept: _Kept) -> None:
        self._inner, self._kept = inner, kept

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def generate(self, features: Any, prompts: Any, **kwargs: Any) -> Any:
        if kwargs.get("beam_size", 1) > 1 and "num_hypotheses" not in kwargs:
            kwargs["num_hypotheses"] = kwargs["beam_size"]
        results = self._inner.generate(features, prompts, **kwargs)
        self._kept.hypotheses.append([list(seq) for seq in results[0].sequences_ids])
        self._kept.scores.append([float(x) for x in results[0].scores or ()])
        return results


def listen(loaded: Any) -> None:
    """Hook a loaded faster-whisper model so each decode keeps what rescoring needs."""
    kept = _Kept()
    encode = loaded.encode

    def kept_encode(features: Any) -> Any:
        if kept.frames and features.shape[-1] > kept.frames:
            features = features[..., : kept.frames]  # the note and a little silence, not 30 s of padding
        kept.encoded.append(encode(features))
        return kept.encoded[-1]

    loaded.encode = kept_encode
    loaded.model = _Beams(loaded.model, kept)
    loaded.voicebot_kept = kept


def forget(loaded: Any, frames: int = 0) -> None:
    """Before a decode: nothing kept from the last one; ``frames``: encode only that many feature frames
    of a window (the note's length and a margin: the encoder's cost grows with its input, and a short
    note is otherwise padded with silence to 30 s)."""
    kept: _Kept = loaded.voicebot_kept
    kept.encoded, kept.hypotheses, kept.scores, kept.frames = [], [], [], frames


@dataclass(frozen=True)
class Choice:
    """The reading kept, and every candidate's score (log-probability) for the record."""

    text: str
    free: str
    scores: dict[str, float]

    def report(self) -> dict[str, Any]:
        free = self.scores.get(self.free)
        best = max(self.scores, key=self.scores.__getitem__) if self.scores else self.free
        return {"free": self.free, "best": best,
                "margin": round(self.scores[best] - free, 2) if free is not None else None,
                "scores": {k: round(v, 2) for k, v in self.scores.items()}}


INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
            "c", "s", "y", "w")


def _split(syllable: str) -> tuple[str, str]:
    initial = next((i for i in INITIALS if syllable.startswith(i)), "")
    return initial, syllable[len(initial):]


def _distance(a: str, b: str) -> float:
    """0 for the same (merged) syllable, 0.5 when only its initial or only its final differs, else 1."""
    if a == b:
        return 0.0
    (ai, af), (bi, bf) = _split(a), _split(b)
    return 0.5 if ai == bi or af == bf else 1.0


def near_readings(text: str, lang: str, words: list[str]) -> list[str]:
    """``text`` with one window that sounds nearly like one of ``words`` (one syllable off in its initial
    or its final: 护存 for 库存) rewritten as that word, closest first. Numerals are never rewritten."""
    rules = sound_rules(lang)
    if rules is None:
        return []
    keys = sound_key(text, lang)
    found: list[tuple[float, str]] = []
    for word in words:
        n, wk = len(word), sound_key(word, lang)
        if n < 2 or not all(wk) or word in text:
            continue
        for i in range(len(text) - n + 1):
            window = keys[i:i + n]
            if not all(window) or any(ch in rules.numerals for ch in text[i:i + n]):
                continue
            cost = sum(_distance(a, b) for a, b in zip(window, wk, strict=True))
            if cost <= 0.5 * (n - 1):
                found.append((cost, text[:i] + word + text[i + n:]))
    return [t for _, t in sorted(found)]


def candidates(free: str, hypotheses: list[str], lang: str, shop_words: list[str]) -> list[str]:
    """The free transcript, the beam's best (of the first window: without a tail decoded after it), the
    free one read by sound as the shop's words and the pack's cue words (exactly, then nearly), then the
    beam's other hypotheses and theirs; one per reading the NLU would tell apart (35块 and 三十五块。 are
    one), at most :data:`MAX_CANDIDATES`: each one costs a decoder pass."""
    rules = sound_rules(lang)
    words = sorted({*shop_words, *(rules.cues if rules else ())}, key=len, reverse=True)
    best, others = hypotheses[:1], hypotheses[1:]
    pool = [free, *best, sound_repairs(free, lang, shop_words), *near_readings(free, lang, words)[:1], *others]
    pool += [r for t in [*best, *others] for r in (sound_repairs(t, lang, shop_words), *near_readings(t, lang, words))]
    out: dict[str, str] = {}
    for text in pool:
        key = normalize(text, lang)
        if key and key not in out:
            out[key] = text
    return list(out.values())[:MAX_CANDIDATES]


def choose(free: str, scores: dict[str, float], margin: float = MARGIN) -> str:
    """The best-scored candidate when it beats the free transcript by ``margin``, else the free one."""
    if free not in scores:
        return free
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] - scores[free] >= margin else free


def _tokenizer(loaded: Any, lang: str) -> Any:
    from faster_whisper.tokenizer import Tokenizer  # the optional `whisper` extra

    return Tokenizer(loaded.hf_tokenizer, loaded.model.is_multilingual, task="transcribe", language=lang)


def hypotheses(loaded: Any, lang: str) -> list[str]:
    """The last decode's beam hypotheses of its first window as text, best first (the free transcript's
    first window is the first): what else the recogniser could have heard."""
    return [text for text, _ in scored_hypotheses(loaded, lang)]


def scored_hypotheses(loaded: Any, lang: str) -> list[tuple[str, float]]:
    """:func:`hypotheses` with each one's mean token log-probability (the beam's own score)."""
    kept: _Kept = loaded.voicebot_kept
    if not kept.hypotheses:
        return []
    tokenizer = _tokenizer(loaded, lang)
    scores = kept.scores[0] if kept.scores and len(kept.scores[0]) == len(kept.hypotheses[0]) else None
    return [(tokenizer.decode([t for t in seq if t < tokenizer.eot]).strip(), scores[i] if scores else 0.0)
            for i, seq in enumerate(kept.hypotheses[0])]


def rescore(loaded: Any, lang: str, free: str, shop_words: list[str], duration: float,
            prompt: str | None = None, margin: float = MARGIN) -> Choice:
    """Score the candidates for the last decode of ``loaded`` (see the module's docstring) after the same
    ``prompt`` the decode had (scored without it, the catalog's names lost: 理松石手链 beat 绿松石手链 on the
    tuning half), on the first window's encoder output (the whole note: at most :data:`MAX_SECONDS`), so a
    tail decoded in a second window ("字幕制作") is scored with the rest."""
    import ctranslate2  # comes with faster-whisper (the optional `whisper` extra)

    kept: _Kept = loaded.voicebot_kept
    if not kept.encoded or not kept.hypotheses:
        return Choice(free, free, {})
    tokenizer = _tokenizer(loaded, lang)
    texts = candidates(free, hypotheses(loaded, lang), lang, shop_words)
    if len(texts) < 2:
        return Choice(free, free, {})
    tokens = [tokenizer.encode(t) for t in texts]
    start = list(tokenizer.sot_sequence)
    if prompt:  # as faster-whisper puts an initial prompt before the decode
        start = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())[-(PROMPT_TOKENS - 1):], *start]
    encoded = np.repeat(np.asarray(kept.encoded[0]), len(texts), axis=0)
    frames = max(1, min(3000, int(duration * 100)))
    results = loaded.model.align(ctranslate2.StorageView.from_array(encoded), start, tokens, frames)
    scores = {t: float(np.sum(np.log(np.maximum(r.text_token_probs, PROBABILITY_FLOOR))))
              for t, r in zip(texts, results, strict=True)}
    return Choice(choose(free, scores, margin), free, scores)


def capped(confidence: float | None) -> float:
    """A rescored reading's confidence: below the dialogue's threshold, so a shop change is read back."""
    return min(confidence if confidence is not None else 0.0, round(DIALOGUE_THRESHOLD - 0.01, 2))
