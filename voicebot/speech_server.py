"""``voicebot speech serve``: voicebot's own engines (Vosk, Whisper with catalog steering, Kokoro, espeak-ng)
as a Wyoming server, so one machine with many cores can recognise and speak for many front ends.

Recognition and synthesis run in the engines' worker processes (the same pools as ``voicebot serve``),
so the event loop only moves bytes and several connections are served side by side. ``describe``
lists the languages (installed models only) and voices; voicebot's extras are described in
:mod:`voicebot.remote.wire`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wyoming.asr import Transcribe
from wyoming.asr import Transcript as WyTranscript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize

from voicebot import __version__
from voicebot.asr.engines import Recognizers, engine_for
from voicebot.asr.recognizer import AsrError, ModelMissing
from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.nlu.grammar import segment
from voicebot.remote import wire
from voicebot.tts.errors import TtsError
from voicebot.tts.service import TtsService

ATTRIBUTION = Attribution(name="voicebot", url="")
AUDIO_CHUNK_S = 0.5  # synthesized audio is sent in chunks of this length
MAX_TEXT_CHARS = 2000  # a reply is a sentence or two; more is a mistake or an attack


class SpeechEngines:
    """The recognisers and the voice one server process offers, started once and shared by every connection."""

    def __init__(self, config: Config, languages: list[str]) -> None:
        self.config = config
        self.languages = list(dict.fromkeys(languages))
        remote = [lang for lang in self.languages if engine_for(config, lang) == "wyoming"]
        if remote or "wyoming" in {config.tts.engines.get(lang) for lang in self.languages}:
            raise ValueError("a speech server cannot send its own work to speech servers: "
                             "set asr.engine/tts.engines to local engines in its config")
        self.asr = Recognizers(config, self.languages)
        self.tts = TtsService(config)
        self._vocab: dict[str, frozenset[str] | None] = {}

    async def start(self) -> None:
        await asyncio.gather(self.asr.start(), self.tts.start())

    async def close(self) -> None:
        await asyncio.gather(self.asr.close(), self.tts.close(), return_exceptions=True)

    # -- describe ---------------------------------------------------------------------------
    def info(self) -> Event:
        asr_status = self.asr.status()["languages"]
        models = [AsrModel(name=f"{lang}:{entry.get('model') or 'none'}", attribution=ATTRIBUTION,
                           installed=bool(entry["installed"]), description=f"{entry['engine']} for {lang}",
                           version=None, languages=[lang])
                  for lang, entry in asr_status.items()]
        voices = []
        tts_langs = [lang for lang in self.config.tts.voices if lang in self.languages or not self.languages]
        for lang in tts_langs:
            engine, voice, _ = self.tts.speech_for(lang)
            voices.append(TtsVoice(name=voice, attribution=ATTRIBUTION, installed=True,
                                   description=f"{engine} voice for {lang}", version=None, languages=[lang]))
        info = Info(
            asr=[AsrProgram(name="voicebot-asr", attribution=ATTRIBUTION, installed=True, version=__version__,
                            description="voicebot recognition: Vosk and Whisper, steered by the shop's words",
                            models=models)],
            tts=[TtsProgram(name="voicebot-tts", attribution=ATTRIBUTION, installed=True, version=__version__,
                            description="voicebot voices: Kokoro-82M and espeak-ng", voices=voices)],
        )
        event = info.event()
        event.data[wire.KEY] = {
            "asr": {lang: {"engine": entry["engine"], "biasing": self.asr.biasing(lang),
                           "installed": bool(entry["installed"])} for lang, entry in asr_status.items()},
            "tts": {lang: {"engine": self.tts.speech_for(lang)[0], "voice": self.tts.speech_for(lang)[1]}
                    for lang in tts_langs},
        }
        return event

    # -- work -------------------------------------------------------------------------------
    async def steering(self, lang: str, request: Transcribe) -> tuple[list[str] | None, bool]:
        """The phrases to steer ``lang`` with, as its engine takes them, and whether to fall back."""
        extra = wire.ours(request.context)
        phrases = extra.get("phrases")
        biasing = self.asr.biasing(lang)
        if not isinstance(phrases, list):  # a foreign client: the standard fields name things, at most
            phrases = [*(request.transcript_names or []), *(request.transcript_terms or [])]
            if biasing == "grammar":  # names alone are no grammar for a whole sentence
                phrases = []
        phrases = [str(p) for p in phrases if str(p).strip()]
        if phrases and biasing == "grammar":
            if lang not in self._vocab:
                self._vocab[lang] = await self.asr.vocabulary(lang)
            vocab = self._vocab[lang]
            if vocab is not None:
                phrases = list(dict.fromkeys(s for p in phrases if (s := segment(p, vocab)) is not None))
        return (phrases or None), bool(extra.get("fallback", True))

    async def synthesize(self, text: str, lang: str) -> tuple[bytes, int, int, int]:
        wav = await self.tts.synthesize(text, lang)
        return await asyncio.to_thread(_read_wav, wav)

    def language_of_voice(self, name: str | None) -> str | None:
        for lang in self.config.tts.voices:
            if name and name == self.tts.speech_for(lang)[1]:
                return lang
        return None


def _read_wav(path: Path) -> tuple[bytes, int, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes()), w.getframerate(), w.getsampwidth(), w.getnchannels()


class SpeechHandler(AsyncEventHandler):
    """One client connection: any number of describe, transcribe+audio and synthesize requests."""

    def __init__(self, engines: SpeechEngines, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engines = engines
        self.request: Transcribe | None = None
        self.audio = bytearray()
        self.converter = AudioChunkConverter(rate=wire.RATE, width=wire.WIDTH, channels=wire.CHANNELS)
        config = engines.config
        self.max_bytes = int(config.audio.max_voice_seconds * 1.1 * wire.RATE * wire.WIDTH)

    async def handle_event(self, event: Event) -> bool:
        try:
            if Describe.is_type(event.type):
                await self.write_event(self.engines.info())
            elif Transcribe.is_type(event.type):
                self.request, self.audio = Transcribe.from_event(event), bytearray()
            elif AudioStart.is_type(event.type):
                self.audio = bytearray()
            elif AudioChunk.is_type(event.type):
                self.audio += self.converter.convert(AudioChunk.from_event(event)).audio
                if len(self.audio) > self.max_bytes:
                    self.audio = bytearray()
                    await self._error("the voice note is too long", "too_long")
                    return False
            elif AudioStop.is_type(event.type):
                await self._transcribe()
            elif Synthesize.is_type(event.type):
                await self._synthesize(Synthesize.from_event(event))
        except (AsrError, TtsError, ValueError) as e:
            code = "model_missing" if isinstance(e, ModelMissing) else type(e).__name__
            await self._error(str(e), code)
        return True

    async def _error(self, text: str, code: str) -> None:
        log_event("speech.refused", logging.WARNING, error=text, code=code)
        await self.write_event(Error(text=text, code=code).event())

    async def _transcribe(self) -> None:
        request, pcm = self.request or Transcribe(), bytes(self.audio)
        self.request, self.audio = None, bytearray()
        lang = request.language or self.engines.config.shop.language
        if lang not in self.engines.languages:  # another server may have it: the client tries the next
            raise ModelMissing(lang)
        started = time.monotonic()
        phrases, fallback = await self.engines.steering(lang, request)
        transcript = await self.engines.asr.transcribe(pcm, lang, phrases, fallback)
        extra = {"words": [w.__dict__ for w in transcript.words], "grammar": transcript.grammar,
                 "fallback": transcript.fallback, "model": transcript.model, "duration": transcript.duration,
                 "confidence": transcript.utterance_confidence, "alternatives": list(transcript.alternatives),
                 "hypotheses": list(transcript.hypotheses)}
        await self.write_event(WyTranscript(text=transcript.text, language=lang,
                                            context={wire.KEY: extra}).event())
        log_event("speech.transcribe", language=lang, audio_s=round(transcript.duration, 2),
                  phrases=len(phrases or []), ms=round((time.monotonic() - started) * 1000, 1))

    async def _synthesize(self, request: Synthesize) -> None:
        config = self.engines.config
        voice = request.voice
        lang = (wire.ours(request.context).get("language") or (voice.language if voice else None)
                or self.engines.language_of_voice(voice.name if voice else None) or config.shop.language)
        if len(request.text) > MAX_TEXT_CHARS:
            raise ValueError(f"the text is longer than {MAX_TEXT_CHARS} characters")
        if lang not in config.tts.voices:
            raise ValueError(f"no voice for language {lang!r} here (voices: {', '.join(sorted(config.tts.voices))})")
        started = time.monotonic()
        audio, rate, width, channels = await self.engines.synthesize(request.text, lang)
        fmt = {"rate": rate, "width": width, "channels": channels}
        await self.write_event(AudioStart(**fmt).event())
        step = max(width * channels, int(rate * AUDIO_CHUNK_S) * width * channels)
        for at in range(0, len(audio), step):
            await self.write_event(AudioChunk(audio=audio[at:at + step], **fmt).event())
        await self.write_event(AudioStop().event())
        log_event("speech.synthesize", language=lang, chars=len(request.text), audio_s=round(len(audio) / (rate * width * channels), 2),
                  ms=round((time.monotonic() - started) * 1000, 1))


async def serve(config: Config, uri: str, languages: list[str],
                listening: Callable[[], None] = lambda: None) -> None:
    """Serve ``languages`` on ``uri`` until SIGINT or SIGTERM; ``listening`` is called once it accepts."""
    engines = SpeechEngines(config, languages)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await engines.start()
    server = AsyncServer.from_uri(uri)
    try:
        await server.start(functools.partial(SpeechHandler, engines))
        status = engines.asr.status()["languages"]
        log_event("speech.serve", uri=uri, asr={lang: e["engine"] if e["installed"] else "missing"
                                                for lang, e in status.items()},
                  tts=engines.tts.engines())
        listening()
        await stop.wait()
    finally:
        await server.stop()
        await engines.close()
        log_event("speech.stopped", uri=uri)
