"""Whisper's utterance confidence (voicebot/asr/confidence.py) on the dialogue's scale: the cuts land on
the dialogue's read-back threshold, and the weaker signal decides."""

from __future__ import annotations

import math

from voicebot.asr.confidence import DIALOGUE_THRESHOLD, LOGPROB_CUT, WORD_CUT, rivals, utterance_confidence
from voicebot.asr.recognizer import Transcript, Word
from voicebot.config import DialogueConfig


def test_cuts_land_on_the_dialogues_threshold() -> None:
    assert DialogueConfig().confirm_below_confidence == DIALOGUE_THRESHOLD
    assert utterance_confidence(math.log(LOGPROB_CUT), [1.0]) == DIALOGUE_THRESHOLD
    assert utterance_confidence(0.0, [WORD_CUT]) == DIALOGUE_THRESHOLD


def test_the_weaker_signal_decides_and_more_certainty_never_lowers_it() -> None:
    sure_words = [0.95, 0.9, 0.99]
    assert utterance_confidence(math.log(0.5), sure_words) < DIALOGUE_THRESHOLD  # unsure tokens: read back
    assert utterance_confidence(math.log(0.95), [0.4, 0.5]) < DIALOGUE_THRESHOLD  # unsure words: read back
    assert utterance_confidence(math.log(0.95), sure_words) > DIALOGUE_THRESHOLD
    values = [utterance_confidence(math.log(p), sure_words) for p in (0.3, 0.5, 0.7, 0.8, 0.9, 0.99)]
    assert values == sorted(values) and all(0.0 <= v <= 1.0 for v in values)


def test_nothing_decoded_has_no_confidence_and_a_transcript_falls_back_to_its_words() -> None:
    assert utterance_confidence(None, []) is None
    words = [Word("对", 0.5, 0.0, 0.3)]
    plain = Transcript("对", words, 0.5, "zh", "m", grammar=False)
    assert plain.confidence == 0.5
    own = Transcript("对", words, 0.5, "zh", "m", grammar=False, utterance_confidence=0.9)
    assert own.confidence == 0.9
    assert Transcript.from_result({"text": "对", "words": [], "duration": 0.5, "language": "zh",
                                   "confidence": 0.42}, "m").confidence == 0.42


def test_rivals_are_the_hypotheses_rated_nearly_as_high_as_the_best() -> None:
    beam = [("卖了两条手链", -0.20), ("卖了2条手链", -0.25), ("卖了十二条手链", -0.30), ("买了两条手链", -0.90)]
    assert rivals(beam) == ["卖了两条手链", "卖了2条手链", "卖了十二条手链"]  # within RIVAL_NATS
    assert rivals(beam, within=0.01) == ["卖了两条手链"]
    assert rivals([]) == []
