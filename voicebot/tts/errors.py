"""TTS errors."""

from __future__ import annotations


class TtsError(Exception):
    """Speech could not be synthesized (worker hung, crashed, or produced no audio)."""

    code = "tts_failed"
