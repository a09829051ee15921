"""Test voices: a sentence spoken by a named synthetic voice, as a WAV or a WeChat AMR voice note.

Mandarin uses espeak-ng ``cmn-latn-pinyin`` (Mandarin phonemes and tones; the ``cmn`` voice
reads pinyin as English) with pitch variants. A :class:`Voice` names its engine, so a natural
voice (Kokoro) can be added later as one more ``engine`` branch in :func:`speak_wav` without
touching the tests that use these helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voicebot.testing.speech import _run, espeak_wav


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak" (Kokoro later)
    name: str  # the engine's voice name
    rate: int = 150  # words (espeak) per minute

    def __str__(self) -> str:
        return f"{self.engine}:{self.name}@{self.rate}"


ZH_VOICES = (
    Voice("espeak", "cmn-latn-pinyin+f3", 120),
    Voice("espeak", "cmn-latn-pinyin+m3", 130),
    Voice("espeak", "cmn-latn-pinyin+f3", 150),
)
EN_VOICES = (Voice("espeak", "en-us", 150), Voice("espeak", "en-us+f3", 140))
VOICES = {"zh": ZH_VOICES, "en": EN_VOICES}


def speak_wav(text: str, voice: Voice, path: Path) -> Path:
    """``text`` spoken by ``voice`` into a WAV at ``path``."""
    if voice.engine == "espeak":
        return espeak_wav(text, voice.name, path, rate=voice.rate)
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
