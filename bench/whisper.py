"""Whisper benchmark: the zh/en voice corpora (exact match, CER/WER, with and without catalog
biasing) and real-time factors, Whisper vs Vosk, on the same clips.

Corpora are tests/data/voice_corpus_{zh,en}.jsonl, spoken at run time by every test voice
(voicebot.testing.voices) and sent through an AMR-NB round trip, as WeChat delivers them. ko
clips (bench/asr.py's sentences) are decoded by both engines for the RTF comparison; Vosk has
no zh model here, so zh and en have a Whisper RTF only.

Run: .venv/bin/python bench/whisper.py [--lang zh en] [--voices N] [--no-ko] [--kokoro]

``--settings N`` instead compares decode settings against today's (beam 5, no timestamps, no VAD, the
catalog prompt, the service's CTranslate2 threads: the machine's cores) on the first N zh notes of the tuning half, Kokoro voices, in this process:
every note is decoded by every setting in turn, so load on a shared machine falls on all of them alike.
Prints exact (NLU, by sound), CER and RTF per setting, and each RTF as a ratio of today's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from asr import make_clips, seconds  # noqa: E402

from voicebot.asr import whisper_worker  # noqa: E402
from voicebot.asr.biasing import bias_phrases, prompt_for  # noqa: E402
from voicebot.asr.engines import Recognizers  # noqa: E402
from voicebot.asr.whisper_pool import cpu_threads  # noqa: E402
from voicebot.audio.decode import decode_sync  # noqa: E402
from voicebot.config import AudioConfig, Config, load_config  # noqa: E402
from voicebot.nlu import understand  # noqa: E402
from voicebot.packaged_models import WHISPER_BASE, assemble  # noqa: E402
from voicebot.testing.voice_corpus import Score, error_rate, load_corpus  # noqa: E402
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
        score = Score(customers=CUSTOMERS[lang])  # the shop knows the customers the prompt names
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


# The service's default: one Whisper worker with all the machine's cores as CTranslate2 threads.
SERVICE_THREADS = cpu_threads(Config(), 1)
# (label, recognize() keyword options, CTranslate2 threads); the first is today's service setting
DECODE_SETTINGS: list[tuple[str, dict, int]] = [
    ("today: beam 5, no ts", {}, SERVICE_THREADS),
    ("before: timestamps", {"without_timestamps": False, "word_timestamps": True}, SERVICE_THREADS),  # until issue 19
    ("beam 2", {"beam_size": 2}, SERVICE_THREADS),
    ("beam 1 (greedy)", {"beam_size": 1}, SERVICE_THREADS),
    ("VAD trimming", {"vad_filter": True}, SERVICE_THREADS),
    ("1 thread", {}, 1),
    ("before, 1 thread", {"without_timestamps": False, "word_timestamps": True}, 1),
]


def settings_run(folder: Path, count: int, pick: list[int] | None = None) -> None:
    """Every setting of :data:`DECODE_SETTINGS` (or those at ``pick``; today's always first) on the same
    notes, interleaved note by note."""
    settings = [DECODE_SETTINGS[0], *(DECODE_SETTINGS[i] for i in pick or range(1, len(DECODE_SETTINGS)) if i)]
    cases = [c for c in load_corpus(DATA / "voice_corpus_zh.jsonl") if c.get("split") == "tune"][:count]
    model = next((folder / "models").iterdir())
    paths = {}
    for threads in sorted({t for _, _, t in settings}):
        alias = folder / f"model-{threads}-threads"  # a model is loaded once per path, with the threads of its load
        os.symlink(model, alias)
        whisper_worker.init([str(alias)], threads)
        paths[threads] = str(alias)
    totals = {label: {"exact": 0, "edits": 0, "units": 0, "s": 0.0} for label, _, _ in settings}
    audio_s = 0.0
    voices = KOKORO_VOICES["zh"]
    for i, case in enumerate(cases):
        amr = voice_note(case["text"], voices[i % len(voices)], folder / "notes", f"{i}", cache=True)
        pcm = decode_sync(amr, AudioConfig()).data
        audio_s += seconds(pcm)
        products = case["products"].split(",")
        prompt = prompt_for("zh", bias_phrases("zh", products, CUSTOMERS["zh"]))
        for label, options, threads in settings:
            opts = dict(options)
            beam = opts.pop("beam_size", 5)
            started = time.perf_counter()
            heard = whisper_worker.recognize(pcm, "zh", paths[threads], prompt, beam, **opts)["text"]
            t = totals[label]
            t["s"] += time.perf_counter() - started
            t["exact"] += understand(heard, "zh", case["role"], products).to_contract() == case["expect"]
            edits, units = error_rate(case["text"], heard, "zh")
            t["edits"], t["units"] = t["edits"] + edits, t["units"] + units
    base = totals[settings[0][0]]["s"]
    print(f"zh decode settings on {len(cases)} tuning notes ({audio_s:.0f} s of audio, Kokoro voices, AMR, prompt)")
    print(f"{'setting':24} exact      CER   RTF   vs today")
    for label, t in totals.items():
        print(f"{label:24} {t['exact']:2}/{len(cases):2}  {t['edits'] / max(1, t['units']):.2f}  "
              f"{t['s'] / audio_s:.2f}  {t['s'] / base:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="*", default=["zh", "en"])
    parser.add_argument("--voices", type=int, default=3)
    parser.add_argument("--no-ko", action="store_true")
    parser.add_argument("--kokoro", action="store_true", help="speak the corpora with Kokoro's natural voices")
    parser.add_argument("--settings", type=int, default=0, metavar="N",
                        help="compare decode settings on the first N zh tuning notes instead")
    parser.add_argument("--pick", type=int, nargs="*", help="with --settings: only these of DECODE_SETTINGS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assemble(WHISPER_BASE, folder / "models")
        if args.settings:
            settings_run(folder, args.settings, args.pick)
            return

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
