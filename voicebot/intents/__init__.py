"""The intent contract: the registry of intents and the one typed :class:`Intent` that carries one."""

from voicebot.intents.intent import Intent
from voicebot.intents.registry import (
    CONTRACT_KEYS,
    REGISTRY,
    SPECS,
    IntentSpec,
    UnknownIntent,
    names,
    slots_of,
    spec,
)

__all__ = ["CONTRACT_KEYS", "REGISTRY", "SPECS", "Intent", "IntentSpec", "UnknownIntent", "names", "slots_of",
           "spec"]
