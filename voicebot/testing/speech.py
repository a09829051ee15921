"""Real speech for tests and benchmarks: espeak-ng voices, converted by the real encoders.

Every input format voicebot accepts can be produced from one WAV:
wav, amr-nb (sox, with DTX as phones do), amr-wb (vo-amrwbenc; ffmpeg here has no AMR-WB
encoder and sox is built without one), speex (Ogg), mp3, opus (Ogg), webm (Opus, as a
browser's MediaRecorder writes it), m4a (AAC) and silk (WeChat's SILK v3 via pysilk).
"""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import pysilk

from voicebot.audio.amr import encode_wb

FORMATS = ("wav", "amr-nb", "amr-wb", "speex", "mp3", "opus", "webm", "m4a", "silk")
SUFFIXES = {"wav": ".wav", "amr-nb": ".amr", "amr-wb": ".awb", "speex": ".spx.ogg", "mp3": ".mp3",
            "opus": ".opus.ogg", "webm": ".webm", "m4a": ".m4a", "silk": ".silk"}
_TIMEOUT_S = 60


def _run(cmd: list[str], stdin: bytes | None = None) -> bytes:
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=_TIMEOUT_S, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def espeak_wav(text: str, voice: str, path: Path, rate: int = 140) -> Path:
    """Speak ``text`` with espeak-ng ``voice`` (e.g. ko, cmn, en-us) into a 22.05 kHz WAV at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), "--", text])
    return path


def raw_pcm(wav: Path, rate: int) -> bytes:
    """The WAV's audio as mono s16le at ``rate``."""
    return _run(["ffmpeg", "-v", "error", "-i", str(wav), "-f", "s16le", "-ac", "1", "-ar", str(rate), "pipe:1"])


def _ffmpeg(wav: Path, out: Path, *args: str) -> None:
    _run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", "1", *args, str(out)])


def convert(wav: Path, fmt: str, out: Path) -> Path:
    """Encode ``wav`` into input format ``fmt`` (one of :data:`FORMATS`) at ``out``."""
    wav, out = Path(wav), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "wav":
        _ffmpeg(wav, out, "-ar", "16000", "-c:a", "pcm_s16le")
    elif fmt == "amr-nb":
        _run(["sox", str(wav), "-r", "8000", "-c", "1", "-t", "amr-nb", str(out)])
    elif fmt == "amr-wb":
        out.write_bytes(encode_wb(raw_pcm(wav, 16000)))
    elif fmt == "speex":
        _ffmpeg(wav, out, "-ar", "16000", "-c:a", "libspeex", "-f", "ogg")
    elif fmt == "mp3":
        _ffmpeg(wav, out, "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3")
    elif fmt == "opus":
        _ffmpeg(wav, out, "-c:a", "libopus", "-b:a", "24k", "-f", "ogg")
    elif fmt == "webm":
        _ffmpeg(wav, out, "-c:a", "libopus", "-b:a", "32k", "-f", "webm")
    elif fmt == "m4a":
        _ffmpeg(wav, out, "-c:a", "aac", "-b:a", "48k", "-f", "ipod")
    elif fmt == "silk":
        buf = io.BytesIO()
        pysilk.encode(io.BytesIO(raw_pcm(wav, 24000)), buf, 24000, 24000, tencent=True)
        out.write_bytes(buf.getvalue())
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return out


def pad_silence(wav: Path, out: Path, before: float = 0.0, after: float = 1.0) -> Path:
    """Copy ``wav`` to ``out`` with digital silence added before and after (seconds)."""
    _run(["sox", str(wav), str(out), "pad", f"{before}", f"{after}"])
    return Path(out)


def silence_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A WAV of ``seconds`` of digital silence."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return Path(path)


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
