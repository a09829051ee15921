"""The Whisper engine behind the pool interface: real decoding in worker processes, the same
Transcript/JSON, /healthz status, a missing model named with its fix, crash recovery."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from whisper_config import make_whisper_config

from voicebot.asr.engines import Recognizers
from voicebot.asr.pool import ModelMissing, WorkerCrashed
from voicebot.audio.decode import decode_sync
from voicebot.cli import main
from voicebot.config import AudioConfig
from voicebot.testing.voices import ZH_VOICES, speak_wav, voice_note

pytestmark = pytest.mark.slow

SENTENCE = "今天卖了多少钱"  # decoded right by Whisper base from every espeak test voice


def zh_pcm(tmp_path: Path, text: str = SENTENCE) -> bytes:
    return decode_sync(voice_note(text, ZH_VOICES[0], tmp_path), AudioConfig()).data


async def test_whisper_transcript_has_the_vosk_shape(whisper_asr: Recognizers, tmp_path: Path) -> None:
    transcript = await whisper_asr.transcribe(zh_pcm(tmp_path), "zh")
    data = transcript.to_dict()
    assert set(data) == {"text", "words", "duration", "language", "model", "grammar", "fallback"}
    assert data["model"] == "faster-whisper-base" and data["language"] == "zh" and not data["grammar"]
    assert "卖了多少" in transcript.text.replace("賣", "卖")
    # Decoded without timestamps (half the time): no word probabilities; the utterance's confidence comes
    # from its tokens, and the beam's rivals travel with it, the transcript itself first.
    assert data["words"] == []
    assert 0 < transcript.confidence <= 1 and transcript.utterance_confidence == transcript.confidence
    assert transcript.alternatives and transcript.alternatives[0] == transcript.text
    assert transcript.hypotheses[: len(transcript.alternatives)] == transcript.alternatives  # rivals lead the beam
    assert transcript.timings["asr"] > 0


async def test_status_names_the_engine_per_language(whisper_asr: Recognizers) -> None:
    status = whisper_asr.status()
    assert status["ready"] and status["workers"] == 1 and len(status["pids"]) == 1
    assert status["languages"]["zh"]["engine"] == "whisper"
    assert status["languages"]["zh"]["model"] == "faster-whisper-base"
    assert status["engines"]["whisper"]["ready"]


async def test_missing_whisper_model_names_the_command(tmp_path: Path) -> None:
    config = make_whisper_config(tmp_path / "data", tmp_path / "empty-models")
    recognizers = Recognizers(config, ["zh", "ko"])
    await recognizers.start()
    try:
        status = recognizers.status()
        assert not status["ready"]
        assert status["languages"]["zh"]["fix"] == "voicebot models pull whisper-base"
        assert status["languages"]["ko"]["engine"] == "vosk" and status["languages"]["ko"]["installed"]
        with pytest.raises(ModelMissing, match="voicebot models pull whisper-base"):
            await recognizers.transcribe(b"\0\0" * 16000, "zh")
    finally:
        await recognizers.close()


async def test_a_crashed_whisper_worker_is_replaced(whisper_asr: Recognizers, tmp_path: Path) -> None:
    pcm = zh_pcm(tmp_path)
    (pid,) = whisper_asr.status()["pids"]
    decode = asyncio.ensure_future(whisper_asr.transcribe(pcm, "zh"))
    while whisper_asr.status()["busy"] == 0:
        await asyncio.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerCrashed):
        await decode
    again = await whisper_asr.transcribe(pcm, "zh")  # waits for the fresh worker's warm-up
    assert "多少" in again.text
    assert whisper_asr.status()["pids"] != [pid]


def test_cli_transcribe_with_engine_whisper(whisper_models_dir: Path, tmp_path: Path) -> None:
    wav = speak_wav(SENTENCE, ZH_VOICES[0], tmp_path / "note.wav")
    env = {"VOICEBOT_ASR__MODELS_DIR": str(whisper_models_dir), "VOICEBOT_SERVER__DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["transcribe", str(wav), "--lang", "zh", "--engine", "whisper",
                                       "--grammar", "蜂蜜", "--grammar", "今天卖了多少钱"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] == "faster-whisper-base" and data["grammar"] is True
    assert "卖了多少钱" in data["text"]


def test_a_short_window_encodes_the_note_and_a_margin_not_thirty_seconds(
        whisper_models_dir: Path, tmp_path: Path) -> None:
    """asr.whisper_short_window: the encoder sees the note and 6 s of silence (its cost grows with its input),
    the service's pool decodes as the worker does in-process, and a short note is still heard."""
    from voicebot.asr import whisper_worker
    from voicebot.asr.whisper_pool import WhisperPool

    assert whisper_worker.encoder_frames(3.0) == 900 and whisper_worker.encoder_frames(40.0) == 3000
    assert whisper_worker.encoder_frames(2.005) % 2 == 0  # the encoder halves its frames
    path = str(next(p for p in whisper_models_dir.iterdir() if p.is_dir()))
    whisper_worker.init([path], cpu_threads=1)
    pcm = zh_pcm(tmp_path)
    here = whisper_worker.recognize(pcm, "zh", path, None, 5, None, True)
    kept = whisper_worker.model(path).voicebot_kept
    assert kept.encoded[0].shape[1] == whisper_worker.encoder_frames(len(pcm) / 32000) // 2  # not 1500
    assert "多少" in here["text"]
    whisper_worker.recognize(pcm, "zh", path, None, 5)  # the default: Whisper's whole window
    assert kept.encoded[0].shape[1] == 1500

    config = make_whisper_config(tmp_path / "service", whisper_models_dir, asr={"whisper_short_window": True})

    async def in_the_pool() -> str:
        pool = WhisperPool(config, ["zh"])
        await pool.start()
        try:
            return (await pool.transcribe(pcm, "zh")).text
        finally:
            await pool.close()

    assert asyncio.run(in_the_pool()) == here["text"]
