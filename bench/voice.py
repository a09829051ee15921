"""Voice benchmark: every rendered reply template, per language x engine, as WeChat plays it.

For zh and en, with Kokoro and with espeak-ng: pace (syllables/s or words/min), reply length
(p50/p95/max seconds, the longest read-back of one action and the longest help), synthesis
real-time factor, intelligibility by Whisper base (CER zh / WER en) on the synthesiser's WAV and
after the AMR-NB round trip, the first call's time (worker start + engine load) and the worker's
peak RSS. Whisper and the reply corpus are the ones tests/test_listening.py uses.

Run: .venv/bin/python bench/voice.py [--lang zh] [--engine kokoro]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from voicebot.config import load_config
from voicebot.testing.listening import listen, load_whisper, peak_rss_kb, speak_all, speech_units
from voicebot.testing.reply_corpus import rendered
from voicebot.tts.service import TtsService


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _run(lang: str, engine: str, data_dir: Path) -> tuple[list[dict], dict]:
    config = load_config(overrides={"server": {"data_dir": str(data_dir)},
                                    "tts": {"engines": {lang: engine}}}, environ={})
    service = TtsService(config)
    start = time.perf_counter()
    await service.start()
    replies = rendered(lang)
    texts = list(dict.fromkeys(r.text for r in replies))
    first = await speak_all(service, texts[:1], lang)
    load_s = time.perf_counter() - start
    clips = first + await speak_all(service, texts[1:], lang)
    info = {"engine": service.engine_for(lang), "load_s": load_s, "rss_mb": peak_rss_kb(service.worker_pid()) / 1024}
    await service.close()
    keys = {r.text: r for r in replies}
    for clip in clips:
        clip["reply"] = keys[clip["text"]]
    return clips, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", action="append", choices=["zh", "en"])
    parser.add_argument("--engine", action="append", choices=["kokoro", "espeak"])
    args = parser.parse_args()
    whisper = load_whisper(Path("models"))
    rows, worst = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.lang or ["zh", "en"]:
            for engine in args.engine or ["kokoro", "espeak"]:
                t0 = time.perf_counter()
                clips, info = asyncio.run(_run(lang, engine, Path(tmp) / f"{lang}-{engine}"))
                t1 = time.perf_counter()
                before = listen(whisper, [(c["text"], c["wav"]) for c in clips], lang)
                after = listen(whisper, [(c["text"], c["amr"]) for c in clips], lang)
                print(f"{lang} {engine}: synthesis {t1 - t0:.0f} s, listening {time.perf_counter() - t1:.0f} s "
                      f"for {sum(c['seconds'] for c in clips):.0f} s of speech", file=sys.stderr, flush=True)
                seconds = [c["seconds"] for c in clips]
                units = sum(speech_units(c["text"], lang) for c in clips)
                pace = units / sum(seconds) * (1 if lang == "zh" else 60)
                rtf = sum(c["synth_s"] for c in clips[1:]) / sum(seconds[1:])
                readback = max(c["seconds"] for c in clips if c["reply"].is_readback)
                help_s = max(c["seconds"] for c in clips if c["reply"].is_help)
                rows.append((lang, info["engine"], len(clips), f"{pace:.1f} {'syl/s' if lang == 'zh' else 'wpm'}",
                             f"{statistics.median(seconds):.1f}", f"{_pct(seconds, 0.95):.1f}", f"{max(seconds):.1f}",
                             f"{readback:.1f}", f"{help_s:.1f}", f"{rtf:.2f}",
                             f"{statistics.mean(e for e, _ in before):.3f}", f"{statistics.mean(e for e, _ in after):.3f}",
                             f"{info['load_s']:.1f}", f"{info['rss_mb']:.0f}"))
                worst += [(e, lang, info["engine"], c["reply"].key, c["text"])
                          for c, (e, _) in zip(clips, after, strict=True)]
    head = ("lang", "engine", "n", "pace", "p50 s", "p95 s", "max s", "readback s", "help s", "RTF",
            "err wav", "err amr", "first s", "RSS MB")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    print("\nerr = CER (zh) / WER (en) by Whisper base; worst five replies after AMR:")
    for e, lang, engine, key, text in sorted(worst, key=lambda w: -w[0])[:5]:
        print(f"  {e:.2f}  {lang} {engine:6} {key:24} {text}")


if __name__ == "__main__":
    main()
