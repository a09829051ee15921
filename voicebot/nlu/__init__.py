"""Natural-language understanding: language packs, numbers, product matching, intents, ASR grammar."""

from voicebot.nlu.intents import CONTRACT_KEYS, Intent, understand

__all__ = ["CONTRACT_KEYS", "Intent", "understand"]
