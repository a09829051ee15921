"""The ASR worker pool: Vosk decoding in worker processes behind one async ``transcribe``.

Each worker process loads its models once (its initializer, in :class:`voicebot.workers.WorkerPool`).
Every decode has its own timeout: a stuck or crashed decode costs only its own worker, which is
replaced, while other users' decodes go on. Decodes are awaited, so the event loop never blocks.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.asr import worker
from voicebot.asr.recognizer import AsrError, Biasing, ModelMissing, Transcript
from voicebot.asr.registry import MODELS, find_model, spec_for
from voicebot.asr.vocabulary import model_vocabulary_isolated
from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.workers import WorkerError, WorkerPool, WorkerStartFailed, WorkerTimeout

WARMUP_TIMEOUT_S = 300.0


class AsrTimeout(AsrError):
    """A decode took longer than asr.decode_timeout_s; its worker was killed and replaced."""


class WorkerCrashed(AsrError):
    """The worker process died during this decode; it was replaced."""


def fix_command(lang: str) -> str:
    return f"voicebot models pull {lang}"


class AsrPool:
    """Vosk recognition in a pool of worker processes; one ``transcribe`` per utterance."""

    engine = "vosk"

    def __init__(self, config: Config, languages: list[str] | None = None) -> None:
        self.config = config
        self.languages = list(dict.fromkeys(languages or [config.shop.language]))
        self.workers = config.asr.workers or os.cpu_count() or 1
        self._pool: WorkerPool | None = None

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

    def _initializer(self, paths: list[str]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """What each worker runs once when it starts: load ``paths``."""
        return worker.init, (paths,)

    # -- life cycle -------------------------------------------------------------------------
    def _spawn(self) -> WorkerPool | None:
        """Spawn the workers (they load their models in the background); None without models."""
        paths = self._installed_paths()
        if not paths:
            return None
        if self._pool is None:
            initializer, initargs = self._initializer(paths)
            self._pool = WorkerPool("asr", self.workers, initializer, initargs)
        self._pool.start()
        return self._pool

    async def start(self) -> None:
        """Start the workers and wait until each has loaded its models (no-op without models)."""
        started = time.monotonic()
        pool = self._spawn()
        if pool is None:
            return
        try:
            await pool.wait_ready(WARMUP_TIMEOUT_S)
        except WorkerStartFailed as e:  # a model that cannot load: run degraded, say why
            log_event("asr.start_failed", level=logging.ERROR, error=str(e), engine=self.engine,
                      paths=self._installed_paths())
            await self.close()
            return
        log_event("asr.ready", engine=self.engine, workers=len(pool.pids()), languages=self.languages,
                  ms=round((time.monotonic() - started) * 1000, 1))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

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
        workers = self._workers_status()
        return {**workers, "ready": workers["ready"] and all_installed, "languages": languages}

    def _workers_status(self) -> dict[str, Any]:
        if self._pool is None:
            return {"ready": False, "workers": 0, "pids": [], "busy": 0, "queued": 0, "restarts": 0}
        return self._pool.status()

    # -- recognition ------------------------------------------------------------------------
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
        cfg = self.config.asr
        use_grammar = grammar if (grammar and cfg.use_grammar) else None
        thresholds = (cfg.fallback_min_confidence, cfg.fallback_max_unk_ratio) if fallback else None
        return await self._recognize(spec_for(lang).name, worker.recognize, pcm, lang, str(path), use_grammar,
                                     thresholds)

    async def _recognize(self, model: str, fn: Callable[..., dict[str, Any]], *args: Any) -> Transcript:
        """Run ``fn(*args)`` in a free worker, timed out and crash-checked; its result as a Transcript."""
        pool = self._spawn()  # models installed after start(), or after close()
        if pool is None:
            raise WorkerCrashed("the speech recognition workers could not be started")
        timeout = self.config.asr.decode_timeout_s
        started = time.monotonic()
        try:
            result = await pool.run(fn, *args, timeout_s=timeout)
        except WorkerTimeout:
            raise AsrTimeout(
                f"speech recognition took longer than {timeout:g} s; its worker was restarted"
            ) from None
        except WorkerError as e:
            raise WorkerCrashed(f"a speech recognition worker crashed ({e}); it has been replaced") from None
        transcript = Transcript.from_result(result, model)
        transcript.timings["asr"] = round((time.monotonic() - started) * 1000, 1)
        return transcript
