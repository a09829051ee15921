"""A browser clip is checked before it is written: size, that it is audio at all, and its length
where the container says it cheaply (WAV); the decoder enforces ``audio.max_voice_seconds`` on the rest."""

from __future__ import annotations

import contextlib
import io
import wave

from voicebot.audio.sniff import sniff
from voicebot.channels.web.protocol import ProtocolError

BROWSER_AUDIO = frozenset({"webm", "ogg", "m4a", "mp3", "wav", "amr-nb", "amr-wb"})


def check_clip(data: bytes, msg_id: str, max_bytes: int, max_seconds: float) -> None:
    """Raise ``ProtocolError`` (the page says "failed" aloud) for a clip that is not worth storing."""
    if len(data) > max_bytes:
        raise ProtocolError("too_large", f"voice clips are limited to {max_bytes} bytes", msg_id)
    kind = sniff(data)
    if kind not in BROWSER_AUDIO:
        raise ProtocolError("bad_clip", "this is not a recording the server can play (webm, ogg, mp4, mp3, wav)",
                            msg_id)
    if kind == "wav":
        seconds = 0.0
        with contextlib.suppress(wave.Error, EOFError), wave.open(io.BytesIO(data)) as w:
            seconds = w.getnframes() / max(1, w.getframerate())
        if seconds > max_seconds:
            raise ProtocolError("too_long", f"voice clips are limited to {max_seconds:g} s", msg_id)
