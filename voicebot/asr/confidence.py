"""Whisper's confidence in a whole utterance, on the dialogue's scale.

Whisper's word probabilities are not calibrated like Vosk's confidences, so the dialogue's
``confirm_below_confidence`` (0.7) applied to their mean alone let misheard changes through. Two signals
are combined, each scaled so that its cut lands on 0.7, and the weaker one counts: the tokens' geometric
mean probability (exp of the mean log-probability) and the mean word probability. Cuts calibrated on
the tuning half of tests/data/voice_corpus_zh.jsonl (bench/whisper_table.py): there every misheard
shop change was read back; on the held-out half 1 of 9 (prompted decoding, Kokoro voices) still acted.
The price: most right-heard changes are read back too (8 of 11), more than the 25 % aimed at.
"""

from __future__ import annotations

import math

LOGPROB_CUT = 0.80  # exp(avg_logprob) at which a note is as unsure as the dialogue's 0.7
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
