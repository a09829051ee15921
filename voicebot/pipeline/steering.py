"""Recognition steering per shop: the phrases that steer the recogniser toward one shop's own words.

A Vosk grammar (the pack's words and the shop's product names, kept to the model's vocabulary) or a
Whisper prompt (the shop's product and customers' names) is built from *that* shop's catalog and
customers, and cached under ``(shop, revision, language, kind)``. Every catalog or customer change bumps
the shop's revision (:func:`voicebot.shop.shops.bump_revision`), so a changed shop is rebuilt at its next
voice note while every other shop keeps its entry; an old revision's entry is dropped when the new one
is built. Looking an entry up costs one primary-key read of the shop's revision.

The cache is an LRU of :data:`MAX_ENTRIES` entries, one per shop and language its people speak (an old
revision's entry is replaced, not kept beside). 1,024 holds a village of 500 shops twice over (shops with
customers in a second language) at about 4 KB an entry (a zh grammar of 30 products; `bench/village.py`
measures it): about 4 MB when full. A county-sized service stays bounded, and a shop pushed out is rebuilt
in about a millisecond at its next voice note.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from voicebot.asr.biasing import bias_phrases
from voicebot.asr.recognizer import Biasing, Recognizer
from voicebot.logs import log_event
from voicebot.nlu.grammar import grammar_phrases
from voicebot.shop import shops
from voicebot.shop.facade import Shop

MAX_ENTRIES = 1024


@dataclass(frozen=True)
class ShopWords:
    """What one shop's steering is built from, read at ``revision`` (read before the names)."""

    revision: int
    products: list[str]
    customers: list[str]


def shop_words(shop: Shop | None) -> ShopWords:
    """What ``shop``'s steering is built from (None: no shop, the pack's words alone). The revision is read
    first: a change made while the names are read leaves a newer revision, rebuilt at the next lookup."""
    if shop is None:
        return ShopWords(0, [], [])
    revision = shops.revision(shop.village, shop.shop_id)
    return ShopWords(revision, shop.product_names(), shop.spoken_names())


Key = tuple[int, str, str]  # (shop_id, language, kind)


class Steering:
    """Per-shop steering phrases, built on demand and cached by shop revision (an LRU)."""

    def __init__(self, grammar: GrammarBuilder, max_entries: int = MAX_ENTRIES) -> None:
        self.grammar = grammar
        self.max_entries = max_entries
        self._cache: OrderedDict[Key, tuple[int, tuple[str, ...] | None]] = OrderedDict()
        self.builds: dict[int, int] = {}  # shop_id -> how many times its steering was built

    def __len__(self) -> int:
        return len(self._cache)

    async def phrases(
        self, shop_id: int, lang: str, kind: Biasing, revision: int,
        words: Callable[[], Awaitable[ShopWords]],
    ) -> list[str] | None:
        """The steering for ``shop_id`` at ``revision``; ``words`` reads the shop (only on a miss)."""
        key = (shop_id, lang, kind)
        cached = self._cache.get(key)
        if cached is not None and cached[0] >= revision:
            self._cache.move_to_end(key)
            return list(cached[1]) if cached[1] is not None else None
        started = time.monotonic()
        read = await words()
        built = await self.build(lang, kind, read)
        self._store(key, read.revision, built)
        self.builds[shop_id] = self.builds.get(shop_id, 0) + 1
        log_event("asr.steering_built", shop_id=shop_id, language=lang, kind=kind, revision=read.revision,
                  phrases=len(built or ()), ms=round((time.monotonic() - started) * 1000, 1))
        return list(built) if built is not None else None

    async def build(self, lang: str, kind: Biasing, read: ShopWords) -> tuple[str, ...] | None:
        """The phrases themselves: a grammar (kept to the recogniser's vocabulary) or a prompt's names."""
        if kind == "prompt":
            return tuple(bias_phrases(lang, read.products, read.customers))
        found = await self.grammar.phrases(lang, read.products)
        return tuple(found) if found is not None else None

    def _store(self, key: Key, revision: int, built: tuple[str, ...] | None) -> None:
        held = self._cache.get(key)
        if held is None or held[0] <= revision:  # a slower build of an older revision never wins
            self._cache[key] = (revision, built)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)


class GrammarBuilder:
    """The grammar for one recogniser: :func:`grammar_phrases` kept to the words it says it knows.

    The recogniser is asked for a language's vocabulary once; every later voice note shares the answer.
    """

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self._vocab: dict[str, asyncio.Future[frozenset[str] | None]] = {}

    async def phrases(self, lang: str, products: list[str]) -> list[str] | None:
        """The phrases for ``lang`` and the current catalog; None when there are none."""
        return grammar_phrases(lang, products, await self.vocabulary(lang)) or None

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        if lang not in self._vocab:
            self._vocab[lang] = asyncio.ensure_future(self._load(lang))
        return await asyncio.shield(self._vocab[lang])  # a cancelled run does not cancel the shared load

    async def _load(self, lang: str) -> frozenset[str] | None:
        try:
            return await self.recognizer.vocabulary(lang)
        except (OSError, RuntimeError) as e:  # the grammar then keeps words the model may not know
            log_event("asr.vocabulary_failed", logging.WARNING, language=lang, error=str(e))
            return None

    async def close(self) -> None:
        """Stop loads still running (a vocabulary may be read in a child process)."""
        for loading in self._vocab.values():
            loading.cancel()
        await asyncio.gather(*self._vocab.values(), return_exceptions=True)
