"""The real service under load: /healthz answers while every ASR worker is decoding."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from voicebot.app import ASR, create_app
from voicebot.audio.decode import decode_sync
from voicebot.config import AudioConfig
from voicebot.testing.speech import espeak_wav

pytestmark = pytest.mark.slow

SENTENCE = "오늘 사과 세 개 팔았어요. 배는 두 개 남았어요. 내일 다시 주문 할게요. 감사 합니다."


async def test_healthz_answers_while_all_workers_decode(aiohttp_client, ko_config, tmp_path):
    wav = espeak_wav(SENTENCE, "ko", tmp_path / "long.wav")
    pcm = decode_sync(wav.read_bytes(), AudioConfig()).data  # ~10 s of speech per decode
    client = await aiohttp_client(create_app(ko_config()))
    pool = client.app[ASR]
    workers = pool.status()["workers"]
    assert workers == 2 and pool.status()["ready"]

    decodes = [asyncio.ensure_future(pool.transcribe(pcm, "ko")) for _ in range(workers)]
    while pool.status()["busy"] < workers:
        await asyncio.sleep(0.01)

    latencies, busy_seen = [], []
    for _ in range(20):
        started = time.perf_counter()
        resp = await client.get("/healthz")
        body = await resp.json()
        latencies.append((time.perf_counter() - started) * 1000)
        assert resp.status == 200
        busy_seen.append(body["asr"]["busy"])
        await asyncio.sleep(0.02)
    still_running = sum(not d.done() for d in decodes)
    print(f"healthz under load: max {max(latencies):.1f} ms, p50 {sorted(latencies)[10]:.1f} ms")

    # Every health check was answered while decodes were in flight and all workers busy.
    assert still_running > 0
    assert all(b == workers for b in busy_seen)
    results = await asyncio.gather(*decodes)
    assert all(r.words for r in results)
    assert pool.status()["busy"] == 0


async def test_service_starts_without_the_model_and_says_how_to_get_it(aiohttp_client, ko_config, caplog):
    config = ko_config(shop={"language": "zh"})
    with caplog.at_level(logging.INFO, logger="voicebot"):
        client = await aiohttp_client(create_app(config))
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "degraded"
    assert body["asr"]["ready"] is False and body["asr"]["workers"] == 0
    zh = body["asr"]["languages"]["zh"]
    assert zh["installed"] is False and zh["model"] == "vosk-model-small-cn-0.22"
    assert zh["fix"] == "voicebot models pull zh"
    assert body["tts"]["engines"] == {"zh": "kokoro", "en": "kokoro", "ko": "espeak"}  # who speaks each language
    startup = [r.getMessage() for r in caplog.records if "asr.model_missing" in r.getMessage()]
    assert startup and "voicebot models pull zh" in startup[0]
