"""Moved to ``voicebot.lang.packs``: this name stays only for ``dialogue/ports.py`` (being rewritten by the
data-layer work in the same session); delete it once that file imports ``voicebot.lang.packs``."""

from voicebot.lang.packs import load_pack

__all__ = ["load_pack"]
