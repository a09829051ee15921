"""TtsService: Kokoro-82M or pyttsx3/espeak-ng in one dedicated worker process, with an on-disk cache.

The engine is chosen per language (``tts.engines``); Kokoro falls back to espeak-ng when its
files are missing (logged with the fix, shown in ``/healthz``). Text goes through
:func:`voicebot.tts.speakable.speakable` first, so no digit or Latin letter reaches a voice.

pyttsx3 blocks and is not thread-safe, so every synthesis goes to a single spawned worker
process (a :class:`voicebot.workers.WorkerPool` of one), one at a time. A call that takes
longer than ``tts.timeout_s`` or a worker that dies gets the worker replaced and a
:class:`TtsError`; the service stays usable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.audio.encode import FORMATS, encode
from voicebot.config import Config
from voicebot.logs import log_event, timed
from voicebot.tts import worker
from voicebot.tts.cache import cache_key, cache_path, temp_path_for, write_atomic
from voicebot.tts.errors import TtsError
from voicebot.tts.speakable import speakable
from voicebot.workers import WorkerDied, WorkerPool, WorkerStartFailed, WorkerTimeout

START_TIMEOUT_S = 120.0


def _has_voice(available: list[str], voice: str) -> bool:
    """espeak-ng ids carry a family prefix (``sit/cmn-Latn-pinyin``); config names the voice, maybe with a
    variant (``cmn-latn-pinyin+f3``)."""
    name = voice.split("+", 1)[0].lower()
    return any(v.lower() == name or v.rsplit("/", 1)[-1].lower() == name for v in available)


class TtsService:
    """Speak reply text with the engine and voice set per language, cached by (lang, engine:voice, pace, text)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._pool = WorkerPool("tts", 1, worker.init_worker)
        self._lock = asyncio.Lock()
        self._available: list[str] = []
        self._ready = False
        self._kokoro: tuple[str, str] | None = None  # (model, voices dir) once Kokoro's files are in place
        self._kokoro_problem = ""
        self._remote = None  # WyomingVoices, when a language's engine is "wyoming"
        if config.tts.wyoming and "wyoming" in config.tts.engines.values():
            from voicebot.tts.wyoming import WyomingVoices  # the optional `wyoming` extra

            self._remote = WyomingVoices(config)
        self._counters: Counter[str] = Counter(
            synth_calls=0, cache_hits=0, encode_calls=0, encode_cache_hits=0, errors=0
        )

    @property
    def cache_dir(self) -> Path:
        return self._config.tts_cache_dir

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the worker, wait for espeak-ng to load, and check the configured voices."""
        self._pool.start()
        try:
            await self._pool.wait_ready(START_TIMEOUT_S)
        except WorkerStartFailed as e:
            raise TtsError(f"the TTS worker could not start: {e}") from None
        async with self._lock:
            self._available = await self._call(worker.list_voices)
            await self._prepare_kokoro()
        if self._remote is not None:
            await self._remote.start()
        self._ready = True
        missing = self.missing_voices()
        log_event("tts.ready", engines=self.engines(), voices=self._config.tts.voices, missing=missing,
                  pid=self.worker_pid())
        if missing:
            log_event("tts.voice_missing", voices=missing, hint="apt-get install espeak-ng-data")

    async def close(self) -> None:
        """Stop the worker process."""
        self._ready = False
        if self._remote is not None:
            await self._remote.close()
        await self._pool.close()

    def status(self) -> dict[str, Any]:
        """Health for /healthz: readiness, voices, cache location and counters."""
        return {
            "ready": self._ready,
            "engines": self.engines(),
            "kokoro_problem": self._kokoro_problem or None,
            "voices": dict(self._config.tts.voices),
            "rates": dict(self._config.tts.rates),
            "missing_voices": self.missing_voices(),
            "cache_dir": str(self.cache_dir),
            "worker_pid": self.worker_pid(),
            **self._counters,
            "restarts": self._pool.restarts,
            **({"servers": self._remote.status()} if self._remote is not None else {}),
        }

    def missing_voices(self) -> dict[str, str]:
        if not self._available:
            return {}
        return {lang: v for lang, v in self._config.tts.voices.items() if not _has_voice(self._available, v)}

    def worker_pid(self) -> int | None:
        return next(iter(self._pool.pids()), None)

    # -- speech ----------------------------------------------------------------------------

    async def _prepare_kokoro(self) -> None:
        """Find (or assemble) Kokoro's files in the worker when a language asks for Kokoro."""
        tts = self._config.tts
        wanted = sorted({tts.kokoro_voices[lang] for lang, engine in tts.engines.items()
                         if engine == "kokoro" and lang in tts.kokoro_voices})
        if not wanted:
            return
        found = await self._call(worker.prepare_kokoro, str(self._config.models_dir), wanted,
                                 str(self._config.kokoro_npm_cache))
        if isinstance(found, str):
            self._kokoro, self._kokoro_problem = None, found
            log_event("tts.kokoro_missing", reason=found, fallback="espeak",
                      hint="voicebot models pull tts-zh")
        else:
            self._kokoro, self._kokoro_problem = (found[0], found[1]), ""
            # WeChat waits 5 s for an answer: load Kokoro now rather than on the first reply.
            lang = next(lang for lang, engine in tts.engines.items() if engine == "kokoro" and lang in tts.kokoro_voices)
            with timed("tts.kokoro_load", lang=lang):
                await self._call(worker.warm_kokoro, self._kokoro, lang, tts.kokoro_voices[lang])

    def engine_for(self, lang: str) -> str:
        """``kokoro``, ``wyoming`` or ``espeak``: the engine that speaks ``lang`` now (espeak when no speech
        server for ``lang`` is up)."""
        tts = self._config.tts
        wants = tts.engines.get(lang, "espeak")
        if wants == "wyoming" and self._remote is not None and self._remote.serving(lang):
            return "wyoming"
        if wants == "kokoro" and self._kokoro is not None and lang in tts.kokoro_voices and lang in ("zh", "en"):
            return "kokoro"
        return "espeak"

    def files_for(self, lang: str) -> str | None:
        """Where ``lang``'s voice comes from: Kokoro's files, the speech servers, or espeak-ng's data."""
        engine = self.engine_for(lang)
        if engine == "kokoro" and self._kokoro is not None:
            return f"{self._kokoro[0]} + {self._kokoro[1]}"
        if engine == "wyoming" and self._remote is not None:
            return ", ".join(s["uri"] for s in self._remote.status() if s["healthy"])
        return "espeak-ng (system package espeak-ng-data)"

    def engines(self) -> dict[str, str]:
        return {lang: self.engine_for(lang) for lang in self._config.tts.voices}

    def voice_for(self, lang: str) -> tuple[str, int]:
        """(espeak-ng voice, words per minute) for ``lang``; ValueError for an unconfigured language."""
        voices = self._config.tts.voices
        if lang not in voices:
            raise ValueError(f"no TTS voice configured for language {lang!r} (tts.voices has {sorted(voices)})")
        return voices[lang], self._config.tts.rates.get(lang, 140)

    def speech_for(self, lang: str) -> tuple[str, str, str]:
        """(engine, voice, pace) for ``lang``; pace is part of the cache key."""
        voice, rate = self.voice_for(lang)
        engine = self.engine_for(lang)
        if engine == "wyoming":
            assert self._remote is not None
            return "wyoming", self._remote.voice(lang), "server"
        if engine == "kokoro":
            tts = self._config.tts
            return "kokoro", tts.kokoro_voices[lang], f"{tts.kokoro_speed:g}/{tts.kokoro_tempo.get(lang, 1.0):g}"
        return "espeak", voice, str(rate)

    def _key(self, text: str, lang: str) -> tuple[str, str, str, str, str]:
        text = text.strip()
        if not text:
            raise ValueError("cannot speak empty text")
        engine, voice, pace = self.speech_for(lang)
        return text, engine, voice, pace, cache_key(lang, f"{engine}:{voice}", pace, text)

    async def synthesize(self, text: str, lang: str) -> Path:
        """The WAV (mono) of ``text`` spoken in ``lang``, from the cache when possible.

        With a speech server (``wyoming``) that fails, espeak-ng says it here instead.
        """
        if self.engine_for(lang) == "wyoming":
            try:
                return await self._synthesize_remote(text, lang)
            except TtsError as e:
                self._counters["errors"] += 1
                log_event("tts.wyoming_failed", logging.WARNING, language=lang, error=str(e), fallback="espeak")
                return await self._synthesize(text, lang, force_espeak=True)
        return await self._synthesize(text, lang)

    async def _synthesize_remote(self, text: str, lang: str) -> Path:
        """Synthesis on a speech server: no local lock (servers run side by side)."""
        assert self._remote is not None
        text, engine, voice, _, key = self._key(text, lang)
        final = cache_path(self.cache_dir, key, "wav")
        if final.exists():
            self._counters["cache_hits"] += 1
            return final
        said = speakable(text, lang)
        tmp = temp_path_for(final)
        try:
            with timed("tts.synth", lang=lang, engine=engine, voice=voice, chars=len(said)) as info:
                self._counters["synth_calls"] += 1
                info["seconds"] = round(await self._remote.synthesize(said, lang, tmp), 2)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return final

    async def _synthesize(self, text: str, lang: str, force_espeak: bool = False) -> Path:
        if force_espeak:
            voice, rate = self.voice_for(lang)
            text = text.strip()
            engine, key = "espeak", cache_key(lang, f"espeak:{voice}", str(rate), text)
        else:
            text, engine, voice, _, key = self._key(text, lang)
        final = cache_path(self.cache_dir, key, "wav")
        if final.exists():
            self._counters["cache_hits"] += 1
            return final
        if not self._pool.running:
            await self.start()
        async with self._lock:
            if final.exists():  # made by a concurrent caller while we waited
                self._counters["cache_hits"] += 1
                return final
            if engine == "espeak" and lang in self.missing_voices():
                raise TtsError(f"espeak-ng has no voice {voice!r} for language {lang!r}")
            said = speakable(text, lang)
            tmp = temp_path_for(final)
            try:
                with timed("tts.synth", lang=lang, engine=engine, voice=voice, chars=len(said)) as info:
                    self._counters["synth_calls"] += 1
                    if engine == "kokoro":
                        tts = self._config.tts
                        assert self._kokoro is not None
                        seconds = await self._call(worker.synthesize_kokoro, self._kokoro, said, lang, voice,
                                                   tts.kokoro_speed, tts.kokoro_tempo.get(lang, 1.0), str(tmp))
                    else:
                        seconds = await self._call(worker.synthesize, said, voice, self.voice_for(lang)[1],
                                                   str(tmp))
                    info["seconds"] = round(seconds, 2)
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
        return final

    async def speak(self, text: str, lang: str, fmt: str = "amr") -> bytes:
        """``text`` spoken in ``lang`` and encoded as ``fmt`` (amr, mp3, ogg, wav); cached too."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        *_, key = self._key(text, lang)
        final = cache_path(self.cache_dir, key, fmt)
        if final.exists():
            self._counters["encode_cache_hits"] += 1
            return final.read_bytes()
        wav = await self.synthesize(text, lang)
        if fmt == "wav":
            return wav.read_bytes()
        final = wav.with_suffix(f".{fmt}")  # the engine that spoke (espeak when a server failed) names it
        self._counters["encode_calls"] += 1
        with timed("tts.encode", format=fmt):
            data = await encode(wav, fmt, timeout=self._config.audio.subprocess_timeout_s)
        await asyncio.to_thread(write_atomic, final, data)
        return data

    # -- the worker ------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` in the worker with the configured timeout. Caller holds ``self._lock``."""
        timeout = self._config.tts.timeout_s
        try:
            return await self._pool.run(fn, *args, timeout_s=timeout)
        except WorkerTimeout:
            self._counters["errors"] += 1
            raise TtsError(f"speech synthesis did not finish within {timeout:g} s; "
                           "the TTS worker was restarted") from None
        except (WorkerDied, WorkerStartFailed) as e:
            self._counters["errors"] += 1
            raise TtsError(f"the TTS worker crashed ({e}); it was restarted") from None
        except Exception as e:
            self._counters["errors"] += 1
            raise TtsError(f"speech synthesis failed: {e}") from e
