"""Synthesis on Wyoming servers: ``synthesize`` -> ``audio-start``, ``audio-chunk``*, ``audio-stop``.

Used by :class:`~voicebot.tts.service.TtsService` for languages whose ``tts.engines`` entry is
``wyoming``; the service keeps its cache, encoding and spoken-text rules, so only the WAV comes from
the server. The text sent is already speakable (no digits or Latin letters).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.tts import Synthesize, SynthesizeVoice

from voicebot.config import Config
from voicebot.remote import wire
from voicebot.remote.servers import CONNECT_TIMEOUT_S, NoServer, Server, ServerRefused, ServerSet, read_until
from voicebot.tts.errors import TtsError

MAX_AUDIO_BYTES = 50_000_000  # a reply is seconds long; a server that streams more is broken


class WyomingVoices:
    """The ``[tts] wyoming`` servers; :meth:`synthesize` writes one reply as a WAV file."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.servers = ServerSet("tts", config.tts.wyoming, wire.tts_languages)

    async def start(self) -> None:
        await self.servers.start()

    async def close(self) -> None:
        await self.servers.close()

    def status(self) -> list[dict[str, Any]]:
        return self.servers.status()

    def serving(self, lang: str) -> bool:
        return any(s.healthy for s in self.servers.serves(lang))

    def voice(self, lang: str) -> str:
        """The voice name asked for (``tts.wyoming_voices``), or the language (the server's own choice)."""
        return self.config.tts.wyoming_voices.get(lang, lang)

    async def synthesize(self, text: str, lang: str, path: Path) -> float:
        """Speak ``text`` into a WAV at ``path``; its duration in seconds. TtsError when no server could."""
        async def request(server: Server) -> tuple[bytes, int, int, int]:
            return await self._synthesize_on(server, text, lang)

        try:
            audio, rate, width, channels = await self.servers.call(lang, request, self.config.tts.timeout_s)
        except (ServerRefused, NoServer) as e:
            raise TtsError(f"no speech server could say this: {e}") from None
        with wave.open(str(path), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(width)
            w.setframerate(rate)
            w.writeframes(audio)
        return len(audio) / (rate * width * channels)

    async def _synthesize_on(self, server: Server, text: str, lang: str) -> tuple[bytes, int, int, int]:
        name = self.config.tts.wyoming_voices.get(lang)
        voice = SynthesizeVoice(name=name) if name else SynthesizeVoice(language=lang)
        async with AsyncClient.from_uri(server.uri, connect_timeout=CONNECT_TIMEOUT_S) as client:
            await client.write_event(Synthesize(text=text, voice=voice, context={wire.KEY: {"language": lang}}).event())
            start = AudioStart.from_event(await read_until(client, lambda e: AudioStart.is_type(e.type)))
            chunks: list[bytes] = []
            size = 0
            while True:
                event = await read_until(client, lambda e: AudioChunk.is_type(e.type) or AudioStop.is_type(e.type))
                if AudioStop.is_type(event.type):
                    break
                chunk = AudioChunk.from_event(event)
                size += len(chunk.audio)
                if size > MAX_AUDIO_BYTES:
                    raise ServerRefused(f"the server sent more than {MAX_AUDIO_BYTES} bytes of audio")
                chunks.append(chunk.audio)
        if not size:
            raise ServerRefused("the server sent no audio")
        return b"".join(chunks), start.rate, start.width, start.channels
