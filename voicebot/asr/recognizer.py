"""What the pipeline needs from a speech recogniser: the :class:`Recognizer` protocol and its result.

The Vosk pool, the Whisper pool and the per-language router (:class:`~voicebot.asr.engines.Recognizers`)
implement it; the pipeline depends on nothing else, so a test can hand it a recogniser of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Biasing = Literal["grammar", "prompt"]


@dataclass
class Word:
    word: str
    conf: float
    start: float
    end: float


@dataclass
class Transcript:
    text: str
    words: list[Word]
    duration: float
    language: str
    model: str
    grammar: bool  # True: the grammar result was kept; False: free decoding
    fallback: bool = False  # a grammar was given but its result was too weak
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    # the recogniser's own calibrated confidence for the whole utterance (Whisper); None: use the words'
    utterance_confidence: float | None = None
    # Whisper's free transcript when the recogniser's own rescoring chose ``text`` over it (asr/rescoring.py)
    rescored_from: str | None = None
    # what else the recogniser could have heard (Whisper's beam, best first): readings the NLU tells
    # apart from ``text`` make a shop change unsure (voicebot/dialogue/engine.py)
    alternatives: tuple[str, ...] = field(default=(), compare=False)
    # the whole beam, best first (Whisper): when ``text`` says nothing the NLU understands, the first
    # hypothesis that does is read instead, and read back before it changes the shop
    hypotheses: tuple[str, ...] = field(default=(), compare=False)

    @property
    def confidence(self) -> float:
        """How sure the recogniser is of the whole utterance, on the dialogue's scale (below
        ``dialogue.confirm_below_confidence`` a change is read back): the recogniser's own utterance
        confidence when it has one, else the mean word confidence (0 when nothing was heard)."""
        if self.utterance_confidence is not None:
            return self.utterance_confidence
        return sum(w.conf for w in self.words) / len(self.words) if self.words else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "words": [asdict(w) for w in self.words],
            "duration": round(self.duration, 3),
            "language": self.language,
            "model": self.model,
            "grammar": self.grammar,
            "fallback": self.fallback,
        }

    @classmethod
    def from_result(cls, result: dict[str, Any], model: str) -> Transcript:
        return cls(
            text=result["text"],
            words=[Word(**w) for w in result["words"]],
            duration=result["duration"],
            language=result["language"],
            model=model,
            grammar=result.get("grammar", False),
            fallback=result.get("fallback", False),
            utterance_confidence=result.get("confidence"),
            rescored_from=(result.get("rescoring") or {}).get("free") if result.get("rescored") else None,
            alternatives=tuple(result.get("alternatives") or ()),
            hypotheses=tuple(h[0] for h in result.get("hypotheses") or ()),
        )


class AsrError(Exception):
    """Recognition failed for this call (the recogniser itself recovers); the user hears a spoken error."""


class ModelMissing(AsrError):
    """No model is installed for the language; the message names the command that fetches it."""

    def __init__(self, lang: str, model: str | None = None) -> None:
        self.language = lang
        self.model = model
        what = f" ({model})" if model else ""
        super().__init__(
            f"no speech model{what} is installed for language {lang!r}; run `voicebot models pull {lang}`"
        )


class Recognizer(Protocol):
    """Speech to words, per language. Failures raise :class:`AsrError` (:class:`ModelMissing` when the
    language has no model)."""

    def biasing(self, lang: str) -> Biasing | None:
        """How recognition of ``lang`` is steered toward the shop's words: ``"grammar"`` (phrases made of
        words in :meth:`vocabulary`), ``"prompt"`` (names as a prompt), or None (not at all)."""
        ...

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        """The words the recogniser can output for ``lang``; None when any word can come out (or unknown)."""
        ...

    async def transcribe(self, pcm: bytes, lang: str, grammar: list[str] | None = None) -> Transcript:
        """Recognise 16 kHz mono s16le ``pcm`` in ``lang``, steered by ``grammar`` (see :meth:`biasing`)."""
        ...
