"""Audio errors: each has a stable ``code`` that the pipeline turns into a short spoken reply."""

from __future__ import annotations


class AudioError(Exception):
    """Audio that cannot be used. ``code`` is stable and machine-readable."""

    code = "audio_error"


class EmptyAudio(AudioError):
    code = "empty"


class CorruptAudio(AudioError):
    code = "corrupt"


class UnsupportedFormat(AudioError):
    code = "unsupported_format"


class TooLarge(AudioError):
    code = "too_large"


class TooLong(AudioError):
    code = "too_long"


class SilentAudio(AudioError):
    code = "silent"


class AudioTimeout(AudioError):
    code = "timeout"
