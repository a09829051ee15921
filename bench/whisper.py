"""Whisper benchmark: the zh/en voice corpora (exact match, CER/WER, with and without catalog
biasing) and real-time factors, Whisper vs Vosk, on the same clips.

Corpora are tests/data/voice_corpus_{zh,en}.jsonl, spoken at run time by every test voice
(voicebot.testing.voices) and sent through an AMR-NB round trip, as WeChat delivers them. ko
clips (bench/asr.py's sentences) are decoded by both engines for the RTF comparison; Vosk has
no zh model here, so zh and en have a Whisper RTF only.

Run: .venv/bin/python bench/whisper.py [--lang zh en] [--voices N] [--no-ko] [--kokoro]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from asr import make_clips, seconds  # noqa: E402

from voicebot.asr.biasing import bias_phrases  # noqa: E402
from voicebot.asr.engines import Recognizers  # noqa: E402
from voicebot.audio.decode import decode_sync  # noqa: E402
from voicebot.config import load_config  # noqa: E402
from voicebot.packaged_models import WHISPER_BASE, assemble  # noqa: E402
from voicebot.testing.voice_corpus import Score, load_corpus  # noqa: E402
from voicebot.testing.voices import KOKORO_VOICES, VOICES, voice_note  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CUSTOMERS = {"zh": ["张三", "李四", "王五"], "en": ["Linda", "Tom"]}


async def corpus_run(rec: Recognizers, lang: str, folder: Path, voices: int, kokoro: bool = False) -> None:
    cases = load_corpus(DATA / f"voice_corpus_{lang}.jsonl")
    products = cases[0]["products"].split(",")
    phrases = bias_phrases(lang, products, CUSTOMERS[lang])
    notes = []
    for v, voice in enumerate((KOKORO_VOICES if kokoro else VOICES)[lang][:voices]):
        for i, case in enumerate(cases):
            amr = voice_note(case["text"], voice, folder / lang, f"{v}-{i}")
            notes.append((case, str(voice), decode_sync(amr, rec.config.audio).data))
    audio_s = sum(seconds(p) for _, _, p in notes)
    for label, grammar in (("without biasing", None), ("with biasing", phrases)):
        score = Score()
        started = time.perf_counter()
        for case, voice, pcm in notes:
            heard = (await rec.transcribe(pcm, lang, grammar)).text
            score.add(case, heard, voice)
        rtf = (time.perf_counter() - started) / audio_s
        summary = score.summary(label) if lang == "zh" else score.summary(label).replace("CER", "WER")
        print(f"{lang} {summary}, RTF {rtf:.2f} ({len(notes)} notes, {audio_s:.0f} s of audio)")
        for miss in score.misses[:8]:
            print("   miss:", miss)


async def ko_rtf(rec_vosk: Recognizers, rec_whisper: Recognizers, folder: Path) -> None:
    clips = make_clips(folder, 8)
    audio_s = sum(seconds(p) for p in clips)
    for name, rec in (("vosk", rec_vosk), ("whisper", rec_whisper)):
        await rec.transcribe(clips[0], "ko")  # warm
        started = time.perf_counter()
        for pcm in clips:
            await rec.transcribe(pcm, "ko")
        print(f"ko {name}: RTF {(time.perf_counter() - started) / audio_s:.2f} on {len(clips)} clips ({audio_s:.0f} s)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="*", default=["zh", "en"])
    parser.add_argument("--voices", type=int, default=3)
    parser.add_argument("--no-ko", action="store_true")
    parser.add_argument("--kokoro", action="store_true", help="speak the corpora with Kokoro's natural voices")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assemble(WHISPER_BASE, folder / "models")

        def config(engine: str):
            return load_config(environ={}, overrides={
                "server": {"data_dir": str(folder / "data")},
                "asr": {"models_dir": str(folder / "models"), "engine": engine, "workers": 1},
            })  # fmt: skip

        whisper = Recognizers(config("whisper"), [*args.lang, "ko"])
        await whisper.start()
        try:
            for lang in args.lang:
                await corpus_run(whisper, lang, folder, args.voices, args.kokoro)
            if not args.no_ko:
                vosk = Recognizers(config("vosk"), ["ko"])
                await vosk.start()
                try:
                    await ko_rtf(vosk, whisper, folder)
                finally:
                    await vosk.close()
        finally:
            await whisper.close()


if __name__ == "__main__":
    asyncio.run(main())
