"""Decoders are bounded by duration: a long SILK note is cut before decoding, not decoded whole."""

from __future__ import annotations

import array
import io
import math

import pysilk
import pytest

from voicebot.audio.decode import decode_sync, silk_head
from voicebot.audio.errors import TooLong
from voicebot.config import AudioConfig


def silk_tone(seconds: float) -> bytes:
    period = array.array("h", (int(6000 * math.sin(2 * math.pi * i / 60)) for i in range(60)))  # 400 Hz
    pcm = (period * int(24000 * seconds / 60)).tobytes()
    out = io.BytesIO()
    pysilk.encode(io.BytesIO(pcm), out, 24000, 24000, tencent=True)
    return out.getvalue()


def test_a_long_silk_note_is_cut_before_decoding(monkeypatch):
    data = silk_tone(150)  # two and a half times the limit
    fed: list[int] = []
    real = pysilk.decode

    def spy(src, dst, rate, *args, **kwargs):
        fed.append(len(src.getbuffer()))
        return real(src, dst, rate, *args, **kwargs)

    monkeypatch.setattr(pysilk, "decode", spy)
    with pytest.raises(TooLong):
        decode_sync(data, AudioConfig(max_file_bytes=50_000_000))
    assert fed and fed[0] < len(data) / 2  # only about the first minute reached the decoder


def test_silk_head_keeps_a_short_note_whole_and_drops_a_cut_off_packet():
    data = silk_tone(2)
    assert silk_head(data, 60) == data
    assert silk_head(data[:-3], 60) < data[:-3]
    assert decode_sync(data, AudioConfig(), check_silence=False).duration == pytest.approx(2, abs=0.1)
