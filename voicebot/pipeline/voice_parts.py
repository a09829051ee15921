"""Long answers become several voice messages, each within the channel's limits (its ``Limits``)."""

from __future__ import annotations

import asyncio
import io
import re
import wave

from voicebot.pipeline.inbound import Limits
from voicebot.tts.speaker import Speaker

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;.,，、])\s*")


def wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def split_text(text: str, parts: int) -> list[str]:
    """``text`` in about ``parts`` pieces, cut after sentence or clause marks where possible."""
    pieces = [p for p in _SENTENCE_END.split(text) if p.strip()]
    if len(pieces) < 2:  # one long clause: cut at a space, else in the middle
        mid = len(text) // 2
        space = text.rfind(" ", 0, mid)
        cut = space if space > 0 else mid
        return [text[:cut].strip(), text[cut:].strip()]
    parts = max(parts, 2)
    target = len(text) / parts
    out, current = [], ""
    for piece in pieces:
        current += piece
        if len(current) >= target and len(out) < parts - 1:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out if len(out) > 1 else [pieces[0], "".join(pieces[1:])]


async def speak_in_parts(
    tts: Speaker, text: str, lang: str, fmt: str, limits: Limits
) -> list[tuple[str, bytes]]:
    """``[(text, audio)]``: one item when the answer fits in one voice message, else several."""
    audio = await tts.speak(text, lang, fmt)
    wav = audio if fmt == "wav" else await tts.speak(text, lang, "wav")  # the service's cached WAV
    seconds = await asyncio.to_thread(wav_seconds, wav)
    if (seconds <= limits.max_voice_s and len(audio) <= limits.max_voice_bytes) or len(text) < 2:
        return [(text, audio)]
    out: list[tuple[str, bytes]] = []
    for part in split_text(text, int(seconds // limits.max_voice_s) + 1):
        out += await speak_in_parts(tts, part, lang, fmt, limits)
    return out
