"""TtsService: pyttsx3/espeak-ng in one dedicated worker process, with an on-disk cache.

pyttsx3 blocks and is not thread-safe, so every synthesis goes to a single spawned worker
process, one at a time. A call that takes longer than ``tts.timeout_s`` or a worker that
dies gets the worker replaced and a :class:`TtsError`; the service stays usable.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from voicebot.audio.encode import FORMATS, encode
from voicebot.config import Config
from voicebot.logs import log_event, timed
from voicebot.tts import worker
from voicebot.tts.cache import cache_key, cache_path, temp_path_for, write_atomic
from voicebot.tts.errors import TtsError


def _has_voice(available: list[str], voice: str) -> bool:
    """espeak-ng ids carry a family prefix (``sit/cmn``); config names the voice (``cmn``)."""
    return any(v == voice or v.rsplit("/", 1)[-1] == voice for v in available)


class TtsService:
    """Speak reply text in the configured voice per language, cached by (lang, voice, rate, text)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._pool: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()
        self._available: list[str] = []
        self._ready = False
        self._counters: Counter[str] = Counter(
            synth_calls=0, cache_hits=0, encode_calls=0, encode_cache_hits=0, errors=0, restarts=0
        )

    @property
    def cache_dir(self) -> Path:
        return self._config.tts_cache_dir

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the worker, wait for espeak-ng to load, and check the configured voices."""
        if self._pool is None:
            self._pool = self._new_pool()
        async with self._lock:
            self._available = await self._call(worker.list_voices)
        self._ready = True
        missing = self.missing_voices()
        log_event("tts.ready", voices=self._config.tts.voices, missing=missing, pid=self.worker_pid())
        if missing:
            log_event("tts.voice_missing", voices=missing, hint="apt-get install espeak-ng-data")

    async def close(self) -> None:
        """Stop the worker process."""
        self._ready = False
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(self._shutdown, pool)

    def status(self) -> dict[str, Any]:
        """Health for /healthz: readiness, voices, cache location and counters."""
        return {
            "ready": self._ready,
            "voices": dict(self._config.tts.voices),
            "rates": dict(self._config.tts.rates),
            "missing_voices": self.missing_voices(),
            "cache_dir": str(self.cache_dir),
            "worker_pid": self.worker_pid(),
            **self._counters,
        }

    def missing_voices(self) -> dict[str, str]:
        if not self._available:
            return {}
        return {lang: v for lang, v in self._config.tts.voices.items() if not _has_voice(self._available, v)}

    def worker_pid(self) -> int | None:
        procs = getattr(self._pool, "_processes", None) or {}
        return next(iter(procs), None)

    # -- speech ----------------------------------------------------------------------------

    def voice_for(self, lang: str) -> tuple[str, int]:
        """(espeak-ng voice, words per minute) for ``lang``; ValueError for an unconfigured language."""
        voices = self._config.tts.voices
        if lang not in voices:
            raise ValueError(f"no TTS voice configured for language {lang!r} (tts.voices has {sorted(voices)})")
        return voices[lang], self._config.tts.rates.get(lang, 140)

    def _key(self, text: str, lang: str) -> tuple[str, str, int, str]:
        text = text.strip()
        if not text:
            raise ValueError("cannot speak empty text")
        voice, rate = self.voice_for(lang)
        return text, voice, rate, cache_key(lang, voice, rate, text)

    async def synthesize(self, text: str, lang: str) -> Path:
        """The WAV (22.05 kHz mono) of ``text`` spoken in ``lang``, from the cache when possible."""
        text, voice, rate, key = self._key(text, lang)
        final = cache_path(self.cache_dir, key, "wav")
        if final.exists():
            self._counters["cache_hits"] += 1
            return final
        if self._pool is None:
            await self.start()
        async with self._lock:
            if final.exists():  # made by a concurrent caller while we waited
                self._counters["cache_hits"] += 1
                return final
            if lang in self.missing_voices():
                raise TtsError(f"espeak-ng has no voice {voice!r} for language {lang!r}")
            tmp = temp_path_for(final)
            try:
                with timed("tts.synth", lang=lang, voice=voice, chars=len(text)) as info:
                    self._counters["synth_calls"] += 1
                    info["seconds"] = round(await self._call(worker.synthesize, text, voice, rate, str(tmp)), 2)
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
        return final

    async def speak(self, text: str, lang: str, fmt: str = "amr") -> bytes:
        """``text`` spoken in ``lang`` and encoded as ``fmt`` (amr, mp3, ogg, wav); cached too."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        _, _, _, key = self._key(text, lang)
        final = cache_path(self.cache_dir, key, fmt)
        if final.exists():
            self._counters["encode_cache_hits"] += 1
            return final.read_bytes()
        wav = await self.synthesize(text, lang)
        if fmt == "wav":
            return wav.read_bytes()
        self._counters["encode_calls"] += 1
        with timed("tts.encode", format=fmt):
            data = await encode(wav, fmt, timeout=self._config.audio.subprocess_timeout_s)
        await asyncio.to_thread(write_atomic, final, data)
        return data

    # -- the worker ------------------------------------------------------------------------

    @staticmethod
    def _new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=worker.init_worker
        )

    @staticmethod
    def _shutdown(pool: ProcessPoolExecutor) -> None:
        # ProcessPoolExecutor cannot stop a busy worker; kill it so shutdown never waits on a hang.
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    async def _replace_worker(self, reason: str) -> None:
        self._counters["restarts"] += 1
        log_event("tts.worker_replaced", reason=reason, pid=self.worker_pid())
        old, self._pool = self._pool, self._new_pool()
        if old is not None:
            await asyncio.to_thread(self._shutdown, old)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` in the worker with the configured timeout. Caller holds ``self._lock``."""
        timeout = self._config.tts.timeout_s
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            assert self._pool is not None
            try:
                future = loop.run_in_executor(self._pool, fn, *args)
            except BrokenProcessPool:
                # The worker died while idle: replace it once and try again.
                await self._replace_worker("worker died while idle")
                if attempt == 2:
                    raise TtsError("the TTS worker could not be started") from None
                continue
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                self._counters["errors"] += 1
                await self._replace_worker(f"timeout after {timeout:g} s")
                raise TtsError(f"speech synthesis did not finish within {timeout:g} s; "
                               "the TTS worker was restarted") from None
            except (BrokenProcessPool, EOFError, ConnectionError):  # the worker died mid-call
                self._counters["errors"] += 1
                await self._replace_worker("worker crashed")
                raise TtsError("the TTS worker crashed; it was restarted") from None
            except Exception as e:
                self._counters["errors"] += 1
                raise TtsError(f"speech synthesis failed: {e}") from e
        raise AssertionError("unreachable")
