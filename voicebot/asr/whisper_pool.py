"""Whisper recognition in worker processes, behind the Vosk pool's interface.

Same life cycle, queueing, per-decode timeouts, crash recovery and ``Transcript`` as
:class:`~voicebot.asr.pool.AsrPool`; only the model (one multilingual faster-whisper folder)
and the decode call differ. The ``grammar`` phrases become Whisper's prompt (catalog biasing).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.asr import whisper_worker
from voicebot.asr.biasing import prompt_for
from voicebot.asr.pool import AsrPool, ModelMissing, Transcript
from voicebot.asr.recognizer import Biasing
from voicebot.asr.whisper_models import find_whisper, whisper_spec
from voicebot.config import Config


class WhisperModelMissing(ModelMissing):
    """The configured Whisper model is not installed; the message names the command that fetches it."""

    def __init__(self, lang: str, key: str, name: str) -> None:
        super().__init__(lang, name)
        self.args = (f"the Whisper model {name} is not installed (needed for {lang!r}); "
                     f"run `voicebot models pull {key}`",)


def cpu_threads(config: Config, workers: int) -> int:
    """CTranslate2 threads per worker: configured, or the machine's cores shared among the workers."""
    return config.asr.whisper_cpu_threads or max(1, (os.cpu_count() or 1) // max(1, workers))


def transcribe_here(pcm: bytes, lang: str, config: Config, phrases: list[str] | None = None) -> Transcript:
    """One utterance recognised in this process, as the pool's workers would (``voicebot transcribe``)."""
    spec = whisper_spec(config.asr.whisper_model)
    path = find_whisper(spec.key, config.models_dir)
    if path is None:
        raise WhisperModelMissing(lang, spec.key, spec.name)
    whisper_worker.init([str(path)], cpu_threads=cpu_threads(config, 1))
    prompt = prompt_for(lang, phrases) if config.asr.whisper_biasing else None
    words = phrases if config.asr.whisper_rescoring and phrases else None
    result = whisper_worker.recognize(pcm, lang, str(path), prompt, config.asr.whisper_beam_size, words,
                                      config.asr.whisper_short_window)
    return Transcript.from_result(result, spec.name)


class WhisperPool(AsrPool):
    """faster-whisper recognition in a pool of worker processes; one ``transcribe`` per utterance."""

    engine = "whisper"

    def __init__(self, config: Config, languages: list[str] | None = None) -> None:
        super().__init__(config, languages)
        self.workers = max(1, config.asr.whisper_workers)
        self.spec = whisper_spec(config.asr.whisper_model)

    def model_path(self, lang: str) -> Path | None:
        return find_whisper(self.spec.key, self.config.models_dir)

    def _installed_paths(self) -> list[str]:
        path = self.model_path("")
        return [str(path)] if path is not None and self.languages else []

    def _initializer(self, paths: list[str]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return whisper_worker.init, (paths, cpu_threads(self.config, self.workers))

    def status(self) -> dict[str, Any]:
        out = super().status()
        path = self.model_path("")
        for lang in out["languages"]:
            entry: dict[str, Any] = {"model": self.spec.name, "engine": "whisper", "installed": path is not None,
                                     "path": str(path) if path else None}
            if path is None:
                entry["fix"] = f"voicebot models pull {self.spec.key}"
            out["languages"][lang] = entry
        return out

    def biasing(self, lang: str) -> Biasing | None:
        """Whisper has no grammar mode: names become its prompt, when ``asr.whisper_biasing`` is on."""
        return "prompt" if self.config.asr.whisper_biasing else None

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        """Whisper writes any word: no vocabulary to keep to."""
        return None

    async def transcribe(
        self, pcm: bytes, lang: str, grammar: list[str] | None = None, fallback: bool = True
    ) -> Transcript:
        """Recognise 16 kHz mono s16le ``pcm`` in ``lang``; ``grammar`` phrases bias it (a prompt).

        ``fallback`` is accepted for the interface and unused (Whisper always decodes freely).
        Raises ModelMissing, AsrTimeout, WorkerCrashed.
        """
        path = self.model_path(lang)
        if path is None:
            raise WhisperModelMissing(lang, self.spec.key, self.spec.name)
        if lang not in self.languages:
            self.languages.append(lang)
        cfg = self.config.asr
        prompt = prompt_for(lang, grammar) if cfg.whisper_biasing else None
        words = grammar if cfg.whisper_rescoring and grammar else None  # the shop's names: candidate readings
        return await self._recognize(self.spec.name, whisper_worker.recognize, pcm, lang, str(path), prompt,
                                     cfg.whisper_beam_size, words, cfg.whisper_short_window)
