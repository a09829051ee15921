"""Which recogniser serves which language, and one object that routes to the right pool.

``[asr] engine`` names the default engine, ``engine_by_language`` overrides it per language
(``{ zh = "whisper" }``). :class:`Recognizers` is a :class:`~voicebot.asr.recognizer.Recognizer` (plus the
pools' start, close, status and model_path), so the app and the pipeline do not care which engine answers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from voicebot.asr.pool import AsrPool
from voicebot.asr.recognizer import Biasing, Transcript
from voicebot.config import Config

ENGINES = ("vosk", "whisper", "wyoming")


def engine_for(config: Config, lang: str) -> str:
    """The engine configured for ``lang``."""
    return config.asr.engine_by_language.get(lang, config.asr.engine)


def new_pool(config: Config, engine: str, languages: list[str]) -> AsrPool:
    if engine == "wyoming":  # speech servers (voicebot speech serve, wyoming-faster-whisper)
        from voicebot.asr.wyoming import WyomingRecognizer  # the optional `wyoming` extra

        return WyomingRecognizer(config, languages)  # type: ignore[return-value]  # the pools' interface
    if engine == "whisper":
        # numpy and faster-whisper: the optional `whisper` extra
        from voicebot.asr.whisper_pool import WhisperPool

        return WhisperPool(config, languages)
    return AsrPool(config, languages)


class Recognizers:
    """One pool per engine in use; each call goes to the pool of its language's engine."""

    def __init__(self, config: Config, languages: list[str] | None = None) -> None:
        self.config = config
        self.languages = list(dict.fromkeys(languages or [config.shop.language]))
        self.pools: dict[str, AsrPool] = {}
        for engine in ENGINES:
            langs = [lang for lang in self.languages if engine_for(config, lang) == engine]
            if langs:
                self.pools[engine] = new_pool(config, engine, langs)

    @property
    def workers(self) -> int:
        return sum(p.workers for p in self.pools.values())

    def engine(self, lang: str) -> str:
        return engine_for(self.config, lang)

    def pool(self, lang: str) -> AsrPool:
        engine = self.engine(lang)
        if engine not in self.pools:  # a language nobody configured (a customer's own): start lazily
            self.pools[engine] = new_pool(self.config, engine, [lang])
        return self.pools[engine]

    def model_path(self, lang: str) -> Path | None:
        return self.pool(lang).model_path(lang)

    async def start(self) -> None:
        await asyncio.gather(*(p.start() for p in self.pools.values()))

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.pools.values()))

    def status(self) -> dict[str, Any]:
        """The pools' status merged: ready when all are; languages say which engine serves them."""
        parts = {engine: pool.status() for engine, pool in self.pools.items()}
        languages: dict[str, Any] = {}
        for engine, st in parts.items():
            for lang, entry in st["languages"].items():
                languages[lang] = {**entry, "engine": engine}
        return {
            "ready": all(st["ready"] for st in parts.values()) if parts else False,
            "workers": sum(st["workers"] for st in parts.values()),
            "pids": sorted(pid for st in parts.values() for pid in st["pids"]),
            "busy": sum(st["busy"] for st in parts.values()),
            "queued": sum(st["queued"] for st in parts.values()),
            "restarts": sum(st["restarts"] for st in parts.values()),
            "languages": languages,
            "engines": {engine: {k: st[k] for k in ("ready", "workers", "busy", "queued", "restarts", "servers")
                                 if k in st}
                        for engine, st in parts.items()},
        }

    def biasing(self, lang: str) -> Biasing | None:
        return self.pool(lang).biasing(lang)

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        return await self.pool(lang).vocabulary(lang)

    async def transcribe(
        self, pcm: bytes, lang: str, grammar: list[str] | None = None, fallback: bool = True
    ) -> Transcript:
        return await self.pool(lang).transcribe(pcm, lang, grammar, fallback)
