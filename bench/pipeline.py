"""Pipeline benchmark: one buyer voice note end to end, against a bare Vosk decode of the same audio.

Each clip (espeak-ng Korean question, AMR-NB as WeChat delivers it) goes through voicebot's whole
run: inbox -> decode -> ASR with the catalog grammar -> dialogue -> TTS -> encode -> outbox. The
baseline, in the same process, is a bare ``vosk.KaldiRecognizer`` decoding the same PCM with the
same grammar. Prints the median of each stage, the ratio pipeline/bare, and the same with the TTS
cache warm (a repeated question).

Run: .venv/bin/python bench/pipeline.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import vosk

sys.path.insert(0, str(Path(__file__).parent))
from ko_shop import PRODUCTS, QUESTIONS, ko_shop, question_clips  # noqa: E402

from voicebot.asr.pool import AsrPool
from voicebot.asr.registry import find_model
from voicebot.audio.decode import decode_sync
from voicebot.channels.web.channel import WebPolicy
from voicebot.channels.wechat.policy import LIMITS
from voicebot.nlu.grammar import grammar_phrases
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Inbound
from voicebot.pipeline.run import Pipeline
from voicebot.tts.service import TtsService


class BenchChannel:
    """Where the replies would go: AMR voice cut to WeChat's limits, no window (sending is not measured)."""

    name, reply_format, limits, policy = "bench", "amr", LIMITS, WebPolicy()
    on_accept: list = []

    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        raise NotImplementedError

    async def send(self, item: dict) -> None:
        return None


def bare_decode(model: vosk.Model, pcm: bytes, grammar: list[str]) -> str:
    rec = vosk.KaldiRecognizer(model, 16000, json.dumps(grammar, ensure_ascii=False))
    for i in range(0, len(pcm), 8000):
        rec.AcceptWaveform(pcm[i : i + 8000])
    return json.loads(rec.FinalResult())["text"]


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="voicebot-bench-"))
    config = ko_shop(folder)
    notes = question_clips(folder, "amr-nb")

    db, asr, tts = DbThread(config), AsrPool(config), TtsService(config)
    await asyncio.gather(db.start(), asr.start(), tts.start())
    pipeline = Pipeline(config, db, asr, tts)
    pipeline.add_channel(BenchChannel())
    vosk.SetLogLevel(-1)
    model = vosk.Model(str(find_model("ko", config.models_dir)))
    grammar = grammar_phrases("ko", [p[0] for p in PRODUCTS])
    runs: list[dict[str, float]] = []
    bare: list[float] = []
    for i, note in enumerate(notes):
        mid, _ = await pipeline.accept(Inbound("bench", f"m{i}", f"buyer{i % 4}", "voice", media=note))
        started = time.perf_counter()
        result = await pipeline.process(mid)
        total = (time.perf_counter() - started) * 1000
        assert result is not None and result.status == "replied", result
        runs.append({**result.timings, "total": total})
        pcm = decode_sync(note, config.audio).data
        started = time.perf_counter()
        bare_decode(model, pcm, grammar)
        bare.append((time.perf_counter() - started) * 1000)
    await asyncio.gather(db.close(), asr.close(), tts.close())

    def median(key: str, rows: list[dict[str, float]]) -> float:
        return statistics.median(r.get(key, 0.0) for r in rows)

    cold, warm = runs[: len(QUESTIONS)], runs[len(QUESTIONS) :]
    print(f"clips: {len(notes)} AMR voice notes, {len(QUESTIONS)} distinct questions")
    for label, rows in (("cold TTS cache", cold), ("warm TTS cache", warm)):
        stages = "  ".join(f"{k} {median(k, rows):.0f}" for k in ("decode", "asr", "dialogue", "tts", "outbox"))
        print(f"{label}: median ms  {stages}  total {median('total', rows):.0f}")
    bare_ms = statistics.median(bare)
    print(f"bare vosk decode of the same audio: median {bare_ms:.0f} ms")
    print(f"ratio pipeline/bare (warm): {median('total', warm) / bare_ms:.2f}   "
          f"(cold: {median('total', cold) / bare_ms:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
