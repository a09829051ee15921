"""Encode reply speech (a WAV file or PCM) into a format a phone plays: AMR-NB, MP3, Ogg/Opus, WAV.

AMR-NB (WeChat's voice format) is 8 kHz, 12.2 kbit/s, written by opencore-amrnb without DTX, after
the loudness is normalised (peak -1 dBFS).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

from voicebot.audio import amr
from voicebot.audio.decode import Pcm
from voicebot.audio.errors import AudioError, CorruptAudio, UnsupportedFormat
from voicebot.audio.proc import Call, Done, Run, Steps, drive_async, drive_sync

FORMATS = ("amr", "mp3", "ogg", "wav")
SUFFIXES = {".amr": "amr", ".mp3": "mp3", ".ogg": "ogg", ".opus": "ogg", ".wav": "wav"}
DEFAULT_TIMEOUT_S = 30.0
# Every voice reaches the phone at the same level: peaks at -1 dBFS (~0.89). Raw synthesiser peaks
# clip in AMR-NB, and quiet espeak-ng output is hard to hear on a phone speaker.
LOUDNESS = ["norm", "-1"]

Source = Path | Pcm


def format_for_path(path: str | Path) -> str:
    """The output format implied by a file name's suffix (``reply.amr`` -> ``amr``)."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedFormat(f"cannot write {suffix or 'a file without suffix'}: use one of "
                                + ", ".join(SUFFIXES))
    return SUFFIXES[suffix]


def pcm_to_wav(pcm: Pcm) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.sample_rate)
        w.writeframes(pcm.data)
    return buf.getvalue()


def _input(source: Source) -> tuple[bytes, list[str], list[str]]:
    """The bytes to pipe in, with sox's and ffmpeg's description of them."""
    if isinstance(source, Pcm):
        rate = str(source.sample_rate)
        sox = ["-t", "raw", "-r", rate, "-e", "signed-integer", "-b", "16", "-c", "1", "-L", "-"]
        return source.data, sox, ["-f", "s16le", "-ar", rate, "-ac", "1"]
    return Path(source).read_bytes(), ["-t", "wav", "-"], ["-f", "wav"]


def _ffmpeg(ffmpeg_in: list[str]) -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", *ffmpeg_in, "-i", "pipe:0", "-ac", "1"]


def command(fmt: str, sox_in: list[str], ffmpeg_in: list[str]) -> list[str]:
    """The encoder command line for ``fmt``, reading stdin and writing stdout."""
    if fmt == "amr":
        # Fallback when libopencore-amrnb cannot be loaded: sox's writer (12.2 kbit/s, but with DTX).
        return ["sox", "-q", *sox_in, "-r", "8000", "-c", "1", "-C", "7", "-t", "amr-nb", "-", *LOUDNESS]
    ffmpeg = _ffmpeg(ffmpeg_in)
    if fmt == "mp3":
        return [*ffmpeg, "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "pipe:1"]
    if fmt == "ogg":
        return [*ffmpeg, "-c:a", "libopus", "-b:a", "24k", "-application", "voip", "-f", "ogg", "pipe:1"]
    raise UnsupportedFormat(f"cannot encode to {fmt!r}: use one of {', '.join(FORMATS)}")


def _encode_steps(source: Source, fmt: str, timeout: float) -> Steps[bytes]:
    if fmt not in FORMATS:
        raise UnsupportedFormat(f"cannot encode to {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "wav":
        return pcm_to_wav(source) if isinstance(source, Pcm) else Path(source).read_bytes()
    data, sox_in, ffmpeg_in = _input(source)
    if not data:
        raise AudioError("nothing to encode: the speech is empty")
    if fmt == "amr" and amr.can_encode_nb():
        # sox starts in ~10 ms where ffmpeg takes ~150 ms: it matters for every fresh reply.
        resample = ["sox", "-q", "-D", *sox_in, "-r", "8000", "-c", "1", "-t", "raw", "-e", "signed-integer",
                    "-b", "16", "-L", "-", *LOUDNESS]
        done: Done = yield Run(resample, data, timeout)
        if done.returncode != 0 or not done.stdout:
            raise CorruptAudio(f"could not encode {fmt}: {done.last_error_line()}")
        return (yield Call(amr.encode_nb, (done.stdout,)))
    done = yield Run(command(fmt, sox_in, ffmpeg_in), data, timeout)
    if done.returncode != 0 or not done.stdout:
        raise CorruptAudio(f"could not encode {fmt}: {done.last_error_line()}")
    return done.stdout


async def encode(source: Source, fmt: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
    """Encode ``source`` (WAV path or PCM) to ``fmt`` (amr, mp3, ogg, wav) without blocking the loop."""
    return await drive_async(_encode_steps(source, fmt, timeout))


def encode_sync(source: Source, fmt: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
    """Blocking twin of :func:`encode`."""
    return drive_sync(_encode_steps(source, fmt, timeout))
