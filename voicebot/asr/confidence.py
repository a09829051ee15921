"""Whisper's confidence in a whole utterance, on the dialogue's scale, and the beam's rivals.

Whisper decodes without timestamps (half the time), so its words carry no probabilities; what it knows
of its own certainty is the tokens' geometric mean probability (exp of the mean log-probability), scaled
so that :data:`LOGPROB_CUT` lands on the dialogue's ``confirm_below_confidence`` (0.7), and the beam's
other hypotheses: those rated nearly as high as the best (:func:`rivals`) go with the transcript, and a
shop change they read otherwise is read back (voicebot/dialogue/engine.py). A transcript that has word
probabilities (Vosk, or Whisper with word timestamps) counts their mean too; the weaker signal decides.

Calibrated on the tuning half of tests/data/voice_corpus_zh.jsonl (bench/whisper_table.py, prompted
decoding without timestamps, Kokoro, espeak-ng, noisy and fast notes): 11 misheard shop changes there
cannot tell 91 % from 100 % caught, so the cut is one step safer than the tuning half's least read-backs
with none acted (0.60, with the shop's customers known to the NLU). Tuning half: 0 of 11 misheard changes
acted, 13 of 42 right ones read back; held out: 55 of 56 misheard changes read back, 42 of 100 right ones
too (12 of those were read from the beam, always read back).
"""

from __future__ import annotations

import math

LOGPROB_CUT = 0.65  # exp(avg_logprob) at which a note is as unsure as the dialogue's 0.7
WORD_CUT = 0.70  # mean word probability at which it is
DIALOGUE_THRESHOLD = 0.7  # dialogue.confirm_below_confidence's default


def utterance_confidence(avg_logprob: float | None, word_probs: list[float]) -> float | None:
    """The weaker of the two scaled signals, 0..1 (None when nothing was decoded)."""
    if avg_logprob is None and not word_probs:
        return None
    signals = []
    if avg_logprob is not None:
        signals.append(math.exp(min(0.0, avg_logprob)) / LOGPROB_CUT)
    if word_probs:
        signals.append(sum(word_probs) / len(word_probs) / WORD_CUT)
    return round(min(1.0, DIALOGUE_THRESHOLD * min(signals)), 3)


RIVAL_NATS = 0.15  # a hypothesis within this of the best's mean token log-probability could be what was said


def rivals(beam: list[tuple[str, float]], within: float = RIVAL_NATS) -> list[str]:
    """The beam's hypotheses (text, mean token log-probability; best first) the recogniser rated nearly as
    high as its best: what it could as well have heard. A shop change they read otherwise is read back."""
    if not beam:
        return []
    best = beam[0][1]
    return [text for text, score in beam if best - score <= within]
