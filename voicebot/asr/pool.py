"""The ASR worker pool: Vosk decoding in worker processes behind one async ``transcribe``.

Each worker process loads its models once (in the pool initializer). Start-up warm-up and
every decode run in the executor and are awaited, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from voicebot.asr import worker
from voicebot.asr.recognizer import AsrError, Biasing, ModelMissing, Transcript
from voicebot.asr.registry import MODELS, find_model, spec_for
from voicebot.asr.vocabulary import model_vocabulary_isolated
from voicebot.config import Config
from voicebot.logs import log_event

WARMUP_TIMEOUT_S = 300.0


class AsrTimeout(AsrError):
    """A decode took longer than asr.decode_timeout_s; the workers were restarted."""


class WorkerCrashed(AsrError):
    """A worker process died during this decode; the pool was replaced."""


def fix_command(lang: str) -> str:
    return f"voicebot models pull {lang}"


class AsrPool:
    """Vosk recognition in a pool of worker processes; one ``transcribe`` per utterance."""

    def __init__(self, config: Config, languages: list[str] | None = None) -> None:
        self.config = config
        self.languages = list(dict.fromkeys(languages or [config.shop.language]))
        self.workers = config.asr.workers or os.cpu_count() or 1
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._ready = False
        self._inflight = 0  # decoding in a worker
        self._waiting = 0  # queued for a free worker
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    # -- models -----------------------------------------------------------------------------
    def model_path(self, lang: str) -> Path | None:
        if lang not in MODELS:
            return None
        return find_model(lang, self.config.models_dir)

    def biasing(self, lang: str) -> Biasing | None:
        """Vosk decodes within a grammar of in-vocabulary phrases, when ``asr.use_grammar`` is on."""
        return "grammar" if self.config.asr.use_grammar else None

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        """The words ``lang``'s model can output, read in a child process; None without a model or word list."""
        path = self.model_path(lang)
        return None if path is None else await model_vocabulary_isolated(path)

    def _installed_paths(self) -> list[str]:
        return [str(p) for lang in self.languages if (p := self.model_path(lang)) is not None]

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the workers and wait until each has loaded its models (no-op without models)."""
        paths = self._installed_paths()
        if not paths:
            return
        self._executor = self._new_executor(paths)
        futures = self._start_warm_up(self._executor)
        try:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        except Exception as e:  # a model that cannot load: run degraded, say why
            log_event("asr.start_failed", level=logging.ERROR, error=f"{type(e).__name__}: {e}", paths=paths)
            await self.close()

    def _new_executor(self, paths: list[str]) -> concurrent.futures.ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=worker.init,
            initargs=(paths, ctx.Barrier(self.workers)),
        )

    def _start_warm_up(
        self, executor: concurrent.futures.ProcessPoolExecutor
    ) -> list[concurrent.futures.Future[int]]:
        """Submit one warm-up task per worker; ``ready`` turns on when all have finished.

        The tasks meet at a barrier, so each runs in its own process, and a process runs the
        initializer (model load) before it takes a task. Done-callbacks (not an asyncio task)
        flip ``ready``, so a restart does not depend on the loop that noticed the crash.
        """
        started = time.monotonic()
        futures = [executor.submit(worker.warm, WARMUP_TIMEOUT_S) for _ in range(self.workers)]

        def done(_: concurrent.futures.Future[int]) -> None:
            if not all(f.done() for f in futures) or executor is not self._executor:
                return
            if any(f.cancelled() or f.exception() is not None for f in futures):
                log_event("asr.warmup_failed", level=logging.ERROR, workers=self.workers)
                return
            self._ready = True
            log_event(
                "asr.ready",
                workers=len({f.result() for f in futures}),
                languages=self.languages,
                ms=round((time.monotonic() - started) * 1000, 1),
            )

        for f in futures:
            f.add_done_callback(done)
        return futures

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        self._ready = False
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    def _restart(self, reason: str) -> None:
        """Throw the current workers away (killing stuck ones) and warm up fresh ones."""
        old, self._executor = self._executor, None
        self._ready = False
        if old is not None:
            for proc in list(getattr(old, "_processes", {}).values()):
                if proc.is_alive():
                    proc.kill()
            old.shutdown(wait=False, cancel_futures=True)
        paths = self._installed_paths()
        log_event("asr.restart", reason=reason, workers=self.workers)
        if paths:
            self._executor = self._new_executor(paths)
            self._start_warm_up(self._executor)

    # -- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        languages: dict[str, Any] = {}
        for lang in self.languages:
            path = self.model_path(lang)
            spec = MODELS.get(lang)
            entry: dict[str, Any] = {
                "model": spec.name if spec else None,
                "installed": path is not None,
                "path": str(path) if path else None,
            }
            if path is None:
                entry["fix"] = fix_command(lang) if spec else f"no model is known for {lang!r}"
            languages[lang] = entry
        all_installed = all(v["installed"] for v in languages.values())
        return {
            "ready": self._ready and all_installed,
            "workers": self.workers if self._executor is not None else 0,
            "pids": sorted(getattr(self._executor, "_processes", None) or {}),
            "busy": self._inflight,
            "queued": self._waiting,
            "languages": languages,
        }

    # -- recognition ------------------------------------------------------------------------
    def _semaphore(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        """One slot per worker, for the running loop (tests share a pool across loops)."""
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self.workers))
        return self._gate[1]

    async def transcribe(
        self, pcm: bytes, lang: str, grammar: list[str] | None = None, fallback: bool = True
    ) -> Transcript:
        """Recognise 16 kHz mono s16le ``pcm`` in ``lang``.

        With ``grammar``, decoding is restricted to those phrases first; if that result is
        empty, ``[unk]``-heavy or low-confidence (config.asr.fallback_*) and ``fallback`` is
        on, free decoding is used instead. Raises ModelMissing, AsrTimeout, WorkerCrashed.
        """
        spec = MODELS.get(lang)
        path = self.model_path(lang)
        if spec is None or path is None:
            raise ModelMissing(lang, spec.name if spec else None)
        if self._executor is None:  # models installed after start(), or after close()
            self._executor = self._new_executor(self._installed_paths())
            self._start_warm_up(self._executor)
        cfg = self.config.asr
        use_grammar = grammar if (grammar and cfg.use_grammar) else None
        thresholds = (cfg.fallback_min_confidence, cfg.fallback_max_unk_ratio) if fallback else None
        started = asyncio.get_running_loop().time()
        result = await self._decode(worker.recognize, pcm, lang, str(path), use_grammar, thresholds)
        transcript = Transcript.from_result(result, spec_for(lang).name)
        transcript.timings["asr"] = round((asyncio.get_running_loop().time() - started) * 1000, 1)
        return transcript

    async def _decode(self, fn: Any, *args: Any) -> dict[str, Any]:
        """Run ``fn(*args)`` in a free worker: queued behind the gate, timed out, crash-checked."""
        cfg = self.config.asr
        loop = asyncio.get_running_loop()
        gate = self._semaphore(loop)
        self._waiting += 1
        try:
            await gate.acquire()
        finally:
            self._waiting -= 1
        # Holding the gate means a worker is free, so the timeout measures the decode only,
        # not the time spent queued behind other utterances.
        executor = self._executor
        self._inflight += 1
        try:
            if executor is None:
                raise WorkerCrashed("the speech recognition workers are restarting; try again")
            future = loop.run_in_executor(executor, fn, *args)
            return await asyncio.wait_for(future, cfg.decode_timeout_s)
        except TimeoutError:
            if executor is self._executor:
                self._restart("timeout")
            raise AsrTimeout(
                f"speech recognition took longer than {cfg.decode_timeout_s:g} s; the workers were restarted"
            ) from None
        except BrokenProcessPool:
            if executor is self._executor:
                self._restart("worker crashed")
            raise WorkerCrashed("a speech recognition worker crashed; it has been replaced") from None
        finally:
            self._inflight -= 1
            gate.release()
