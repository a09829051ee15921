"""Media checks the WeChat emulator applies like WeChat does: format sniffing and voice duration."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path

AMR_NB_MAGIC = b"#!AMR\n"
AMR_WB_MAGIC = b"#!AMR-WB\n"
# Speech payload bytes per frame type (the 1-byte frame header comes on top); 20 ms per frame.
AMR_NB_SIZES = {0: 12, 1: 13, 2: 15, 3: 17, 4: 19, 5: 20, 6: 26, 7: 31, 8: 5, 15: 0}
AMR_WB_SIZES = {0: 17, 1: 23, 2: 32, 3: 36, 4: 40, 5: 46, 6: 50, 7: 58, 8: 60, 9: 5, 14: 0, 15: 0}


def sniff(data: bytes) -> str | None:
    """The container/codec by magic bytes: amr, amr-wb, mp3, silk, speex, wav, jpeg, png, or None."""
    if data.startswith(AMR_WB_MAGIC):
        return "amr-wb"
    if data.startswith(AMR_NB_MAGIC):
        return "amr"
    if data.startswith(b"\x02#!SILK_V3") or data.startswith(b"#!SILK_V3"):
        return "silk"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"OggS") and b"Speex" in data[:80]:
        return "speex"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def amr_duration(data: bytes) -> float:
    """Seconds of AMR-NB/WB audio by walking its frames; raises ValueError on a corrupt stream."""
    if data.startswith(AMR_WB_MAGIC):
        pos, sizes = len(AMR_WB_MAGIC), AMR_WB_SIZES
    elif data.startswith(AMR_NB_MAGIC):
        pos, sizes = len(AMR_NB_MAGIC), AMR_NB_SIZES
    else:
        raise ValueError("not an AMR file")
    frames = 0
    while pos < len(data):
        frame_type = (data[pos] >> 3) & 0x0F
        if frame_type not in sizes:
            raise ValueError(f"bad AMR frame type {frame_type} at byte {pos}")
        pos += 1 + sizes[frame_type]
        frames += 1
    if pos > len(data):
        raise ValueError("truncated AMR frame")
    return frames * 0.02


async def probe_duration(data: bytes, timeout_s: float = 20.0) -> float:
    """Seconds of audio in ``data`` measured by decoding it (ffmpeg, 8 kHz mono s16le) and counting samples."""
    proc = await asyncio.create_subprocess_exec(
        *("ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(data), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ValueError("ffmpeg timed out") from None
    if proc.returncode != 0 or not out:
        raise ValueError(f"ffmpeg cannot decode the audio: {err.decode(errors='replace').strip()[:200]}")
    return len(out) / 16000


async def voice_duration(data: bytes) -> float:
    if sniff(data) in ("amr", "amr-wb"):
        return amr_duration(data)
    return await probe_duration(data)


def synth(seconds: float, fmt: str = "amr", freq: int = 440) -> bytes:
    """A real tone of ``seconds`` as AMR-NB (sox), MP3 or WAV (ffmpeg); for tests and fixtures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"tone.{fmt}"
        if fmt == "amr":
            cmd = ["sox", "-n", "-r", "8000", "-c", "1", "-t", "amr-nb", str(out), "synth", str(seconds), "sine", str(freq)]
        else:
            src = f"sine=frequency={freq}:duration={seconds}:sample_rate=16000"
            cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, "-ac", "1", str(out)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        return out.read_bytes()
