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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from voicebot.asr import worker
from voicebot.asr.registry import MODELS, find_model, spec_for
from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.workers import WorkerError, WorkerPool, WorkerStartFailed, WorkerTimeout

WARMUP_TIMEOUT_S = 300.0


@dataclass
class Word:
    word: str
    conf: float
    start: float
    end: float


@dataclass
class Transcript:
    text: str
    words: list[Word]
    duration: float
    language: str
    model: str
    grammar: bool  # True: the grammar result was kept; False: free decoding
    fallback: bool = False  # a grammar was given but its result was too weak
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def confidence(self) -> float:
        """Mean word confidence (0 when nothing was heard)."""
        return sum(w.conf for w in self.words) / len(self.words) if self.words else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "words": [asdict(w) for w in self.words],
            "duration": round(self.duration, 3),
            "language": self.language,
            "model": self.model,
            "grammar": self.grammar,
            "fallback": self.fallback,
        }

    @classmethod
    def from_result(cls, result: dict[str, Any], model: str) -> Transcript:
        return cls(
            text=result["text"],
            words=[Word(**w) for w in result["words"]],
            duration=result["duration"],
            language=result["language"],
            model=model,
            grammar=result.get("grammar", False),
            fallback=result.get("fallback", False),
        )


class AsrError(Exception):
    """Recognition failed for this call (the pool itself recovers)."""


class ModelMissing(AsrError):
    """No model is installed for the language; the message names the command that fetches it."""

    def __init__(self, lang: str, model: str | None = None) -> None:
        self.language = lang
        self.model = model
        what = f" ({model})" if model else ""
        super().__init__(
            f"no speech model{what} is installed for language {lang!r}; run `voicebot models pull {lang}`"
        )


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
