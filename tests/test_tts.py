"""TtsService with the real pyttsx3/espeak-ng worker process."""

from __future__ import annotations

import asyncio
import os
import signal
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebot.audio.decode import decode_sync
from voicebot.audio.levels import rms_dbfs
from voicebot.config import Config, load_config
from voicebot.tts.errors import TtsError
from voicebot.tts.service import TtsService
from voicebot.tts.speakable import speakable
from voicebot.workers import STALL_ENV, stall_name


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    # espeak-ng, the engine that always works; Kokoro has its own tests (test_tts_kokoro.py).
    return load_config(overrides={"server": {"data_dir": str(tmp_path_factory.mktemp("data"))},
                                  "tts": {"engines": {"zh": "espeak", "en": "espeak"}}}, environ={})


@pytest.fixture(scope="module")
def stall_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder the TTS workers' test hook watches (voicebot.workers.stall_for_tests)."""
    folder = tmp_path_factory.mktemp("stall")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(STALL_ENV, str(folder))  # seen by every worker spawned while the module runs
        yield folder


@pytest.fixture(scope="module")
def tts(config: Config, stall_dir: Path) -> Iterator[TtsService]:
    # The service holds no loop-bound state between calls, so one worker serves every test's loop.
    service = TtsService(config)
    asyncio.run(service.start())
    yield service
    asyncio.run(service.close())


def _audio_length(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


async def test_status_reports_ready_voices_and_cache(tts: TtsService, config: Config) -> None:
    status = tts.status()
    assert status["ready"] is True
    assert status["voices"] == {"zh": "cmn-latn-pinyin+f3", "en": "en-us", "ko": "ko"}
    assert status["engines"] == {"zh": "espeak", "en": "espeak", "ko": "espeak"}
    assert status["missing_voices"] == {}
    assert status["cache_dir"] == str(config.tts_cache_dir)


@pytest.mark.parametrize(("lang", "text"), [("zh", "两百块，库存十个"), ("en", "Your order is ready"),
                                            ("ko", "주문이 확인되었습니다")])
async def test_synthesize_speaks_each_language(tts: TtsService, lang: str, text: str) -> None:
    wav = await tts.synthesize(text, lang)
    assert wav.parent.parent == tts.cache_dir
    assert 0.8 < _audio_length(wav) < 6
    assert rms_dbfs(decode_sync(wav.read_bytes(), Config().audio).data) > -35


async def test_cache_hit_returns_the_same_file_without_the_worker(tts: TtsService) -> None:
    first = await tts.synthesize("一百八十块", "zh")
    before = tts.status()
    second = await tts.synthesize("  一百八十块 ", "zh")
    after = tts.status()
    assert second == first
    assert after["synth_calls"] == before["synth_calls"]
    assert after["cache_hits"] == before["cache_hits"] + 1
    other = await tts.synthesize("一百八十块", "ko")  # same text, other voice: its own entry
    assert other != first and tts.status()["synth_calls"] == before["synth_calls"] + 1


async def test_rate_is_part_of_the_cache_key(tts: TtsService, config: Config) -> None:
    slow = await tts.synthesize("three bracelets", "en")
    config.tts.rates["en"] = 220
    try:
        fast = await tts.synthesize("three bracelets", "en")
    finally:
        config.tts.rates["en"] = 140
    assert fast != slow and _audio_length(fast) < _audio_length(slow)


async def test_speak_encodes_and_caches_the_encoding(tts: TtsService) -> None:
    data = await tts.speak("库存还有三个", "zh", "amr")
    assert data.startswith(b"#!AMR\n")
    assert decode_sync(data, Config().audio).duration > 0.8
    before = tts.status()
    assert await tts.speak("库存还有三个", "zh", "amr") == data
    after = tts.status()
    assert after["encode_cache_hits"] == before["encode_cache_hits"] + 1
    assert (after["synth_calls"], after["encode_calls"]) == (before["synth_calls"], before["encode_calls"])


async def test_bad_requests(tts: TtsService) -> None:
    with pytest.raises(ValueError, match="empty"):
        await tts.synthesize("   ", "zh")
    with pytest.raises(ValueError, match="fr"):
        await tts.synthesize("bonjour", "fr")
    with pytest.raises(ValueError, match="flac"):
        await tts.speak("hi", "en", "flac")


async def test_a_hung_worker_is_replaced(tts: TtsService, config: Config, stall_dir: Path) -> None:
    text = "this call hangs in the worker"
    (stall_dir / f"{stall_name(speakable(text, 'en').encode())}.hang").touch()
    restarts, pid = tts.status()["restarts"], tts.worker_pid()
    config.tts.timeout_s = 1.0
    try:
        with pytest.raises(TtsError, match="restarted"):
            await tts.synthesize(text, "en")
    finally:
        config.tts.timeout_s = 30.0
    assert tts.status()["restarts"] == restarts + 1
    assert pid not in (None, tts.worker_pid())
    wav = await tts.synthesize("the new worker speaks", "en")
    assert _audio_length(wav) > 0.5


async def test_a_dead_worker_is_replaced(tts: TtsService) -> None:
    await tts.synthesize("warm up the worker", "en")
    pid = tts.status()["worker_pid"]
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.3)  # let the pool notice; the next call must still succeed
    wav = await tts.synthesize("spoken by a fresh worker", "en")
    assert _audio_length(wav) > 0.5
    assert tts.status()["worker_pid"] not in (None, pid)
