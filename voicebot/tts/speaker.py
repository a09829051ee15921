"""What the pipeline needs from speech synthesis: the :class:`Speaker` protocol.

:class:`~voicebot.tts.service.TtsService` implements it; the pipeline depends on nothing else, so a
test can hand it a speaker of its own.
"""

from __future__ import annotations

from typing import Protocol


class Speaker(Protocol):
    """Text to audio, per language. Failures raise an exception (the pipeline then sends the text)."""

    async def speak(self, text: str, lang: str, fmt: str) -> bytes:
        """``text`` spoken in ``lang``, encoded as ``fmt`` (``amr``, ``mp3``, ``ogg`` or ``wav``)."""
        ...
