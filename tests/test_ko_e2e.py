"""Korean end to end: espeak-ng speech -> real Vosk with the generated grammar -> understand."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.asr.vocabulary import model_vocabulary
from voicebot.nlu import understand
from voicebot.nlu.grammar import grammar_phrases
from voicebot.testing.speech import espeak_wav, raw_pcm

CATALOG = ["사과", "배", "꿀"]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("spoken", "intent", "product"),
    [("사과 얼마예요", "ask_price", "사과"), ("배 있어요", "ask_stock", "배")],
)
async def test_buyer_question_by_voice(asr_pool, tmp_path: Path, spoken: str, intent: str, product: str) -> None:
    vocab = model_vocabulary(str(asr_pool.model_path("ko")))
    grammar = grammar_phrases("ko", CATALOG, vocab)
    pcm = raw_pcm(espeak_wav(spoken, "ko", tmp_path / "q.wav"), 16000)
    transcript = await asr_pool.transcribe(pcm, "ko", grammar)
    result = understand(transcript.text, "ko", "buyer", CATALOG)
    assert (result.name, result.product) == (intent, product), transcript.text
