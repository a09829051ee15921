"""Recognition on Wyoming servers, behind the :class:`~voicebot.asr.recognizer.Recognizer` protocol.

One connection per utterance: ``transcribe`` (language, catalog steering), ``audio-start``, the 16 kHz
mono PCM in chunks, ``audio-stop``; the server answers ``transcript``. voicebot's own server
(``voicebot speech serve``) also returns word confidences and honours the steering; a foreign server
(wyoming-faster-whisper) returns the text only, so every word gets confidence 0 and money and stock
changes are read back before they are made.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wyoming.asr import Transcribe
from wyoming.asr import Transcript as WyTranscript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient

from voicebot.asr.recognizer import AsrError, Biasing, ModelMissing, Transcript, Word
from voicebot.config import Config
from voicebot.remote import wire
from voicebot.remote.servers import CONNECT_TIMEOUT_S, NoServer, Server, ServerRefused, ServerSet, read_until


class WyomingRecognizer:
    """Recognition for some languages on ``[asr] wyoming`` servers; the pools' interface (start, status...)."""

    engine = "wyoming"
    workers = 0

    def __init__(self, config: Config, languages: list[str] | None = None) -> None:
        self.config = config
        self.languages = list(dict.fromkeys(languages or [config.shop.language]))
        self.servers = ServerSet("asr", config.asr.wyoming, wire.asr_languages)

    # -- the pools' interface ---------------------------------------------------------------
    def model_path(self, lang: str) -> Path | None:
        return None

    async def start(self) -> None:
        await self.servers.start()

    async def close(self) -> None:
        await self.servers.close()

    def status(self) -> dict[str, Any]:
        languages = {}
        for lang in self.languages:
            serving = [s.uri for s in self.servers.serves(lang) if s.healthy]
            entry: dict[str, Any] = {"model": "wyoming", "installed": bool(serving), "path": None,
                                     "servers": serving}
            if not serving:
                entry["fix"] = f"start a speech server for {lang!r} (voicebot speech serve) or check asr.wyoming"
            languages[lang] = entry
        busy = sum(s.inflight for s in self.servers.servers)
        return {"ready": self.servers.ready, "workers": 0, "pids": [], "busy": busy, "queued": 0,
                "restarts": 0, "languages": languages, "servers": self.servers.status()}

    # -- Recognizer -------------------------------------------------------------------------
    def _ours(self, lang: str) -> dict[str, Any]:
        """What voicebot's own servers said about ``lang`` ({} from foreign servers)."""
        for server in self.servers.serves(lang):
            entry = wire.ours(server.info).get("asr", {}).get(lang)
            if entry:
                return entry
        return {}

    def biasing(self, lang: str) -> Biasing | None:
        """As the server says (voicebot's own); names as a prompt for a foreign server (which may ignore them)."""
        entry = self._ours(lang)
        if entry:
            return entry.get("biasing")
        return "prompt"

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        """None: the server keeps the grammar to the words its model knows."""
        return None

    async def transcribe(
        self, pcm: bytes, lang: str, grammar: list[str] | None = None, fallback: bool = True
    ) -> Transcript:
        started = time.monotonic()
        biasing = self.biasing(lang)

        async def request(server: Server) -> Transcript:
            return await self._transcribe_on(server, pcm, lang, grammar, biasing, fallback)

        try:
            transcript = await self.servers.call(lang, request, self.config.asr.wyoming_timeout_s)
        except ServerRefused as e:
            if e.code == "model_missing":
                raise ModelMissing(lang) from None
            raise AsrError(f"the speech server could not recognise this: {e}") from None
        except NoServer as e:
            raise AsrError(str(e)) from None
        transcript.timings["asr"] = round((time.monotonic() - started) * 1000, 1)
        return transcript

    async def _transcribe_on(self, server: Server, pcm: bytes, lang: str, grammar: list[str] | None,
                             biasing: Biasing | None, fallback: bool) -> Transcript:
        context = {wire.KEY: {"phrases": grammar or [], "biasing": biasing, "fallback": fallback}}
        names = list(grammar) if grammar and biasing == "prompt" else None
        fmt = {"rate": wire.RATE, "width": wire.WIDTH, "channels": wire.CHANNELS}
        async with AsyncClient.from_uri(server.uri, connect_timeout=CONNECT_TIMEOUT_S) as client:
            await client.write_event(Transcribe(language=lang, context=context, transcript_names=names).event())
            await client.write_event(AudioStart(**fmt).event())
            for at in range(0, len(pcm), wire.CHUNK_BYTES):
                await client.write_event(AudioChunk(audio=pcm[at:at + wire.CHUNK_BYTES], **fmt).event())
            await client.write_event(AudioStop().event())
            event = await read_until(client, lambda e: WyTranscript.is_type(e.type))
        return to_transcript(event.data or {}, lang, len(pcm) / (wire.RATE * wire.WIDTH))


def to_transcript(data: dict[str, Any], lang: str, duration: float) -> Transcript:
    """A Wyoming ``transcript`` as voicebot's Transcript (words at confidence 0 from a foreign server)."""
    text = str(data.get("text") or "").strip()
    extra = wire.ours(data.get("context"))
    if "words" in extra:
        words = [Word(str(w["word"]), float(w["conf"]), float(w["start"]), float(w["end"])) for w in extra["words"]]
    else:
        words = [Word(w, 0.0, 0.0, 0.0) for w in (text.split() if " " in text else [text] if text else [])]
    return Transcript(text=text, words=words, duration=float(extra.get("duration", duration)),
                      language=str(data.get("language") or lang), model=str(extra.get("model", "wyoming")),
                      grammar=bool(extra.get("grammar", False)), fallback=bool(extra.get("fallback", False)),
                      utterance_confidence=_confidence(extra.get("confidence")),
                      alternatives=_texts(extra.get("alternatives")), hypotheses=_texts(extra.get("hypotheses")))


def _texts(value: Any, most: int = 8) -> tuple[str, ...]:
    """A list of other hearings from the server (at most ``most``; anything else a hostile server sends is
    dropped)."""
    return tuple(str(a) for a in value if isinstance(a, str))[:most] if isinstance(value, list) else ()


def _confidence(value: Any) -> float | None:
    """The server's utterance confidence, if it sent a sane one (a foreign or hostile server may not)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    return None
