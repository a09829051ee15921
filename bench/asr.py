"""ASR benchmark: voicebot's transcribe path vs a bare in-process Vosk loop, on the same clips.

Prints the real-time factor (processing seconds per audio second) of each single-stream
path and their ratio (target <= 1.15), the throughput with all workers busy (audio seconds
per wall second), and /healthz latency p50/p99 of the real service under that load (target
< 50 ms). Clips are espeak-ng Korean sentences of 2-15 s, decoded by the ko model.

Run: .venv/bin/python bench/asr.py [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import vosk
from aiohttp import web

from voicebot.app import ASR, create_app
from voicebot.asr import worker
from voicebot.audio.decode import decode_sync
from voicebot.config import load_config
from voicebot.testing.speech import espeak_wav

SENTENCES = [
    "사과 얼마 예요",
    "배 두 개 주세요",
    "오늘 사과 세 개 팔았어요",
    "배는 두 개 남았어요",
    "내일 다시 주문 할게요",
    "감사 합니다 안녕히 계세요",
    "포도 한 상자 가격 알려 주세요",
    "우유 다섯 병 주문 취소 해 주세요",
]


def make_clips(folder: Path, count: int = 24) -> list[bytes]:
    """``count`` clips of 2-15 s: one to four sentences each, spoken by espeak-ng ko."""
    clips: list[bytes] = []
    i = 0
    while len(clips) < count:
        n = 1 + i % 4
        text = ". ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(n))
        wav = espeak_wav(text, "ko", folder / f"clip{i}.wav", rate=120 + 10 * (i % 3))
        pcm = decode_sync(wav.read_bytes(), load_config(environ={}).audio, check_silence=False).data
        if 2.0 <= len(pcm) / 32000 <= 15.0:
            clips.append(pcm)
        i += 1
    return clips


def seconds(pcm: bytes) -> float:
    return len(pcm) / 32000


def bare_pass(model: vosk.Model, clips: list[bytes], rec: vosk.KaldiRecognizer) -> float:
    """The plain Vosk loop: one reused recognizer, 0.4 s chunks, Result/FinalResult."""
    started = time.perf_counter()
    for pcm in clips:
        rec.Reset()
        for k in range(0, len(pcm), worker.CHUNK_BYTES):
            if rec.AcceptWaveform(pcm[k : k + worker.CHUNK_BYTES]):
                json.loads(rec.Result())
        json.loads(rec.FinalResult())
    return time.perf_counter() - started


async def healthz_probe(url: str, stop: asyncio.Event, out: list[float]) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            started = time.perf_counter()
            async with session.get(url) as resp:
                await resp.read()
                assert resp.status == 200
            out.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def main(workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("generating clips ...", flush=True)
        clips = make_clips(folder)
        audio_s = sum(map(seconds, clips))
        print(f"clips: {len(clips)}, {min(map(seconds, clips)):.1f}-{max(map(seconds, clips)):.1f} s each, "
              f"{audio_s:.1f} s of audio")  # fmt: skip

        config = load_config(
            overrides={"shop": {"language": "ko"}, "server": {"data_dir": str(folder / "data"), "port": 8080},
                       "asr": {"workers": workers}},
            environ={},
        )  # fmt: skip
        app = create_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        pool = app[ASR]
        model_path = pool.status()["languages"]["ko"]["path"]
        try:
            # Warm-up (untimed): every worker and the bare recognizer see every clip once.
            await asyncio.gather(*(pool.transcribe(pcm, "ko") for pcm in clips for _ in range(pool.workers)))
            vosk.SetLogLevel(-1)
            model = vosk.Model(model_path)
            rec = vosk.KaldiRecognizer(model, 16000)
            rec.SetWords(True)
            bare_pass(model, clips, rec)

            started = time.perf_counter()
            for pcm in clips:
                await pool.transcribe(pcm, "ko")
            voicebot_s = time.perf_counter() - started
            bare_s = bare_pass(model, clips, rec)
            del rec, model

            stop = asyncio.Event()
            latencies: list[float] = []
            probe = asyncio.ensure_future(healthz_probe(f"http://127.0.0.1:{port}/healthz", stop, latencies))
            await asyncio.sleep(0.2)
            load = clips * 2
            started = time.perf_counter()
            await asyncio.gather(*(pool.transcribe(pcm, "ko") for pcm in load))
            load_s = time.perf_counter() - started
            stop.set()
            await probe
        finally:
            await runner.cleanup()

    rtf_v, rtf_b = voicebot_s / audio_s, bare_s / audio_s
    print(f"single stream RTF   voicebot (AsrPool.transcribe): {rtf_v:.3f}")
    print(f"single stream RTF   bare vosk.KaldiRecognizer loop: {rtf_b:.3f}")
    print(f"ratio voicebot/bare: {rtf_v / rtf_b:.3f}   (target <= 1.15)")
    print(f"throughput, {workers} workers busy: {sum(map(seconds, load)) / load_s:.1f} audio-s per wall-s "
          f"({len(load)} decodes in {load_s:.1f} s)")  # fmt: skip
    print(f"/healthz under load: n={len(latencies)} p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms   (target p99 < 50 ms)")  # fmt: skip


if __name__ == "__main__":
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    asyncio.run(main(parser.parse_args().workers))
