"""Loudness of s16le PCM, in dBFS, with the standard library only (audioop is deprecated)."""

from __future__ import annotations

import math
import operator
import sys
from array import array

FLOOR_DBFS = -120.0


def _samples(pcm: bytes) -> array:
    a = array("h")
    a.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _dbfs(samples: array, start: int = 0, stop: int | None = None) -> float:
    stop = len(samples) if stop is None else stop
    n = stop - start
    if n <= 0:
        return FLOOR_DBFS
    part = samples[start:stop]
    energy = sum(map(operator.mul, part, part))
    if energy == 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20 * math.log10(math.sqrt(energy / n) / 32768.0))


def rms_dbfs(pcm: bytes) -> float:
    """RMS level of the whole signal in dBFS (0 is full scale; digital silence is -120)."""
    return _dbfs(_samples(pcm))


def is_silent(pcm: bytes, threshold_dbfs: float, sample_rate: int = 16000, window_s: float = 0.1) -> bool:
    """True when no ``window_s`` stretch of ``pcm`` is louder than ``threshold_dbfs``.

    Stops at the first loud window, so speech is recognised as such quickly.
    """
    samples = _samples(pcm)
    step = max(1, int(sample_rate * window_s))
    return all(_dbfs(samples, i, i + step) < threshold_dbfs for i in range(0, max(len(samples), 1), step))
