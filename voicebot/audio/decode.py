"""Decode any supported voice note to 16 kHz mono s16le PCM, enforcing the configured limits.

ffmpeg runs with the demuxer chosen from the sniffed magic bytes (never a guessing or
playlist demuxer on untrusted bytes) and is told to stop after the length limit, so a
10-minute note costs about as much as a 1-minute one. WeChat's SILK v3 goes through pysilk,
AMR through the reference opencore decoders (see amr.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pysilk

from voicebot.audio import amr
from voicebot.audio.errors import (
    AudioError,
    CorruptAudio,
    EmptyAudio,
    SilentAudio,
    TooLarge,
    TooLong,
    UnsupportedFormat,
)
from voicebot.audio.levels import is_silent
from voicebot.audio.proc import Call, Done, Run, Steps, drive_async, drive_sync
from voicebot.audio.sniff import sniff
from voicebot.config import AudioConfig

SAMPLE_RATE = 16000
SILK_RATE = 24000
# Codec frames and padding make a 60 s note decode to slightly more than 60 s.
LENGTH_TOLERANCE_S = 0.5

# Sniffed format -> ffmpeg demuxer.
DEMUXERS = {
    "wav": "wav",
    "amr-nb": "amr",
    "amr-wb": "amr",
    "ogg": "ogg",
    "webm": "matroska",
    "mp3": "mp3",
    "m4a": "mov",
}


@dataclass
class Pcm:
    """Signed 16-bit little-endian mono samples."""

    data: bytes
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.data) / 2 / self.sample_rate


def ffmpeg_to_pcm(input_args: list[str], max_seconds: float) -> list[str]:
    """ffmpeg command reading stdin (described by ``input_args``) and writing 16 kHz PCM to stdout."""
    return [
        "ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", "-protocol_whitelist", "pipe",
        *input_args, "-i", "pipe:0",
        "-vn", "-t", f"{max_seconds:.3f}",
        "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1",
    ]  # fmt: skip


def sox_resample(rate: int) -> list[str]:
    """sox command turning s16le mono at ``rate`` into 16 kHz: as good as ffmpeg's resampler, and it
    starts in ~10 ms where ffmpeg takes ~150 ms (more than recognising a short voice note)."""
    raw = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-L"]
    return ["sox", "-q", "-D", *raw, "-r", str(rate), "-", *raw, "-r", str(SAMPLE_RATE), "-"]  # -D: no dither


SILK_PACKET_S = 0.02  # WeChat's SILK v3 packets carry 20 ms each


def silk_head(data: bytes, max_seconds: float) -> bytes:
    """The SILK v3 stream cut after ``max_seconds`` worth of packets (the decoder's work is bounded by
    duration, whatever the file's size); a truncated last packet is dropped."""
    pos = data.index(b"#!SILK_V3") + len(b"#!SILK_V3")
    max_packets = int(max_seconds / SILK_PACKET_S) + 1
    for _ in range(max_packets):
        if pos + 2 > len(data):
            break
        size = int.from_bytes(data[pos:pos + 2], "little", signed=True)
        if size < 0 or pos + 2 + size > len(data):  # end marker, or a cut-off packet
            break
        pos += 2 + size
    return data[:pos]


def _silk_to_pcm(data: bytes, max_seconds: float) -> bytes:
    out = io.BytesIO()
    pysilk.decode(io.BytesIO(silk_head(data, max_seconds)), out, SILK_RATE)
    return out.getvalue()


def _decode_steps(data: bytes, limits: AudioConfig, check_silence: bool) -> Steps[Pcm]:
    if not data:
        raise EmptyAudio("the audio is empty (0 bytes)")
    if len(data) > limits.max_file_bytes:
        raise TooLarge(f"the audio is {len(data)} bytes; the limit is {limits.max_file_bytes} bytes")
    fmt = sniff(data)
    if fmt == "unknown":
        raise UnsupportedFormat(f"not a supported audio format (first bytes {data[:8].hex()})")
    timeout = limits.subprocess_timeout_s
    # Decode a little past the limit, so that "too long" can be told apart from "just at the limit".
    max_s = limits.max_voice_seconds + 2 * LENGTH_TOLERANCE_S
    variant = amr.variant_of(data)
    if fmt == "silk" or (variant is not None and amr.can_decode(variant)):
        func, args, rate = (
            (_silk_to_pcm, (data, max_s), SILK_RATE) if variant is None
            else (amr.decode_frames, (data, variant, max_s), variant.sample_rate)
        )
        try:
            raw = yield Call(func, args)
        except AudioError:
            raise
        except Exception as e:  # pysilk raises SilkError (or worse) on bad frames
            raise CorruptAudio(f"could not decode {fmt} audio: {e}") from None
        if not raw:
            raise CorruptAudio(f"could not decode {fmt} audio: no complete audio frame")
        done = Done(0, raw, b"") if rate == SAMPLE_RATE else (yield Run(sox_resample(rate), raw, timeout))
    else:
        done = yield Run(ffmpeg_to_pcm(["-f", DEMUXERS[fmt]], max_s), data, timeout)
    pcm = Pcm(done.stdout[: len(done.stdout) - len(done.stdout) % 2])
    # A truncated file decodes its good frames and then ffmpeg may complain: keep what decoded.
    if done.returncode != 0 and not pcm.data:
        raise CorruptAudio(f"could not decode {fmt} audio: {done.last_error_line()}")
    if not pcm.data:
        raise CorruptAudio(f"could not decode {fmt} audio: no audio frames")
    if pcm.duration > limits.max_voice_seconds + LENGTH_TOLERANCE_S:
        raise TooLong(f"the audio is longer than the limit of {limits.max_voice_seconds:g} s")
    # A minute of PCM takes a noticeable fraction of a second to scan: off the event loop.
    if check_silence and (yield Call(is_silent, (pcm.data, limits.silence_dbfs, pcm.sample_rate))):
        raise SilentAudio(f"the audio is silent (quieter than {limits.silence_dbfs:g} dBFS)")
    return pcm


async def decode(data: bytes, limits: AudioConfig, *, check_silence: bool = True) -> Pcm:
    """Decode ``data`` (any supported format) to 16 kHz mono PCM without blocking the loop.

    Raises an :class:`~voicebot.audio.errors.AudioError` subclass for empty, oversized,
    unsupported, corrupt, over-long or silent audio, and AudioTimeout for a hung decoder.
    """
    return await drive_async(_decode_steps(data, limits, check_silence))


def decode_sync(data: bytes, limits: AudioConfig, *, check_silence: bool = True) -> Pcm:
    """Blocking twin of :func:`decode`, for the CLI and worker processes."""
    return drive_sync(_decode_steps(data, limits, check_silence))
