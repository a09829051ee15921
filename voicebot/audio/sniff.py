"""Recognise a voice note's container from its first bytes (no trust in names or MIME types)."""

from __future__ import annotations

FORMATS = ("wav", "amr-nb", "amr-wb", "silk", "ogg", "webm", "mp3", "m4a", "unknown")


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a valid layer and a valid bitrate index."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    layer = (head[1] >> 1) & 0x03
    bitrate = head[2] >> 4
    return layer != 0 and bitrate not in (0, 15)


def sniff(data: bytes) -> str:
    """Return one of :data:`FORMATS` for the audio in ``data``."""
    if data.startswith(b"#!AMR-WB\n"):
        return "amr-wb"
    if data.startswith(b"#!AMR\n"):
        return "amr-nb"
    if data.startswith((b"\x02#!SILK_V3", b"#!SILK_V3")):
        return "silk"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data[:3] == b"ID3" or _is_mp3_frame(data[:3]):
        return "mp3"
    return "unknown"
