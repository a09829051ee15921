"""Natural-language understanding: normalising, numbers, product matching, intents, ASR grammar."""

from voicebot.nlu.intents import CONTRACT_KEYS, Intent, understand

__all__ = ["CONTRACT_KEYS", "Intent", "understand"]
