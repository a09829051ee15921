"""AMR-NB / AMR-WB frames through the reference codecs (opencore-amr, vo-amrwbenc) via ctypes.

Why not ffmpeg alone: phones and sox encode with DTX, and ffmpeg's native AMR decoders drop
SID/NO_DATA frames, so pauses vanish and durations and word times come out wrong. The
opencore decoders play comfort noise for those frames, as a phone does. For replies we encode
without DTX, because not every player handles it. Storage format is RFC 4867 section 5.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from array import array
from dataclasses import dataclass

NB_MAGIC = b"#!AMR\n"
WB_MAGIC = b"#!AMR-WB\n"
FRAME_S = 0.02


@dataclass(frozen=True)
class Variant:
    magic: bytes
    sample_rate: int
    frame_bytes: tuple[int, ...]  # payload size after the one-byte frame header, by frame type
    library: str
    init: str
    decode: str
    exit: str

    @property
    def frame_samples(self) -> int:
        return int(self.sample_rate * FRAME_S)


NB = Variant(NB_MAGIC, 8000, (12, 13, 15, 17, 19, 20, 26, 31, 5, 6, 5, 5, 0, 0, 0, 0),
             "opencore-amrnb", "Decoder_Interface_init", "Decoder_Interface_Decode", "Decoder_Interface_exit")
WB = Variant(WB_MAGIC, 16000, (17, 23, 32, 36, 40, 46, 50, 58, 60, 5, 0, 0, 0, 0, 0, 0),
             "opencore-amrwb", "D_IF_init", "D_IF_decode", "D_IF_exit")
# Reserved frame types: a file that uses them is not AMR.
_RESERVED = {NB.magic: range(12, 15), WB.magic: range(10, 14)}


@functools.cache
def _load(name: str) -> ctypes.CDLL | None:
    path = ctypes.util.find_library(name)
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for fn in ("Decoder_Interface_init", "D_IF_init", "Encoder_Interface_init", "E_IF_init"):
        if hasattr(lib, fn):
            getattr(lib, fn).restype = ctypes.c_void_p
    return lib


def variant_of(data: bytes) -> Variant | None:
    if data.startswith(WB_MAGIC):
        return WB
    if data.startswith(NB_MAGIC):
        return NB
    return None


def can_decode(variant: Variant) -> bool:
    return _load(variant.library) is not None


def can_encode_nb() -> bool:
    return _load("opencore-amrnb") is not None


def split_frames(data: bytes, variant: Variant) -> tuple[list[bytes], bool]:
    """The complete frames after the magic (header byte included), and whether the file was cut short."""
    frames: list[bytes] = []
    pos = len(variant.magic)
    while pos < len(data):
        ftype = (data[pos] >> 3) & 0x0F
        if ftype in _RESERVED[variant.magic]:
            return frames, True
        end = pos + 1 + variant.frame_bytes[ftype]
        if end > len(data):
            return frames, True
        frames.append(data[pos:end])
        pos = end
    return frames, False


def decode_frames(data: bytes, variant: Variant, max_seconds: float) -> bytes:
    """Decode an AMR file to s16le PCM at the variant's rate, stopping after ``max_seconds``."""
    lib = _load(variant.library)
    if lib is None:
        raise RuntimeError(f"lib{variant.library} is not installed")
    frames, _ = split_frames(data, variant)
    frames = frames[: int(max_seconds / FRAME_S) + 1]
    init, dec, close = getattr(lib, variant.init), getattr(lib, variant.decode), getattr(lib, variant.exit)
    state = ctypes.c_void_p(init())
    out = (ctypes.c_short * variant.frame_samples)()
    pcm = bytearray()
    try:
        for frame in frames:
            dec(state, frame, out, 0)
            pcm += bytes(out)
    finally:
        close(state)
    return _to_le(bytes(pcm))


def _to_le(pcm: bytes) -> bytes:
    if sys.byteorder == "little":
        return pcm
    a = array("h", pcm)
    a.byteswap()
    return a.tobytes()


def _frames_of(pcm: bytes, n: int) -> list[ctypes.Array[ctypes.c_short]]:
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    samples.extend([0] * (-len(samples) % n))
    return [(ctypes.c_short * n)(*samples[i : i + n]) for i in range(0, len(samples), n)]


@dataclass(frozen=True)
class _Encoder:
    library: str
    init: str
    encode: str
    exit: str
    magic: bytes
    frame_samples: int
    init_args: tuple[int, ...] = ()


_NB_ENCODER = _Encoder("opencore-amrnb", "Encoder_Interface_init", "Encoder_Interface_Encode",
                       "Encoder_Interface_exit", NB_MAGIC, 160, init_args=(0,))  # 0: no DTX
_WB_ENCODER = _Encoder("vo-amrwbenc", "E_IF_init", "E_IF_encode", "E_IF_exit", WB_MAGIC, 320)


def _encode(enc: _Encoder, pcm: bytes, mode: int) -> bytes:
    lib = _load(enc.library)
    if lib is None:
        raise RuntimeError(f"lib{enc.library} is not installed")
    state = ctypes.c_void_p(getattr(lib, enc.init)(*enc.init_args))
    buf = (ctypes.c_ubyte * 128)()
    out = bytearray(enc.magic)
    try:
        for frame in _frames_of(pcm, enc.frame_samples):
            n = getattr(lib, enc.encode)(state, mode, frame, buf, 0)
            out += bytes(buf[:n])
    finally:
        getattr(lib, enc.exit)(state)
    return bytes(out)


def encode_nb(pcm8k: bytes, mode: int = 7) -> bytes:
    """AMR-NB file from 8 kHz s16le PCM; mode 7 = 12.2 kbit/s; no DTX (every frame is speech)."""
    return _encode(_NB_ENCODER, pcm8k, mode)


def encode_wb(pcm16k: bytes, mode: int = 8) -> bytes:
    """AMR-WB file from 16 kHz s16le PCM (vo-amrwbenc); mode 8 = 23.85 kbit/s; no DTX."""
    return _encode(_WB_ENCODER, pcm16k, mode)
