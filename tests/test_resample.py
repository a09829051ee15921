"""Doubling AMR-NB's 8 kHz to 16 kHz in process keeps the sound and the length."""

from __future__ import annotations

import math
from array import array

from voicebot.audio.levels import rms_dbfs
from voicebot.audio.resample import upsample_2x


def test_samples_are_kept_and_interpolated():
    pcm = array("h", [0, 100, -100, 32767, -32768]).tobytes()
    assert array("h", upsample_2x(pcm)).tolist() == [0, 50, 100, 0, -100, 16333, 32767, -1, -32768, -32768]
    assert upsample_2x(b"") == b"" and upsample_2x(b"\x01") == b""


def test_a_tone_keeps_its_length_and_loudness():
    tone = array("h", (int(8000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(8000))).tobytes()
    up = upsample_2x(tone)
    assert len(up) == 2 * len(tone)  # one second at 16 kHz
    assert abs(rms_dbfs(up) - rms_dbfs(tone)) < 0.5
