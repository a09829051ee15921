"""Natural-language understanding: language packs, numbers, product matching, intents, ASR grammar."""

from __future__ import annotations

from typing import Any

__all__ = ["CONTRACT_KEYS", "Intent", "understand"]


def __getattr__(name: str) -> Any:
    # Lazy, so that voicebot.lang can use voicebot.nlu.packs without importing the intent parser first.
    if name in __all__:
        from voicebot.nlu import intents

        return getattr(intents, name)
    raise AttributeError(name)
