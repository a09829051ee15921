"""Text normalisation shared by intent rules, numbers and matching."""

from __future__ import annotations

import re
import unicodedata

from voicebot.nlu.packs import load_pack

_PUNCT = re.compile(r"[^\w\s'$.]|(?<!\d)\.|\.(?!\d)")


def normalize(text: str, lang: str) -> str:
    """NFKC, lower-case, punctuation dropped; cjk packs also drop spaces (Vosk zh/ko output is split)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("[unk]", " ")
    text = _PUNCT.sub(" ", text)
    if load_pack(lang).script == "cjk":
        return re.sub(r"\s+", "", text)
    return re.sub(r"\s+", " ", text).strip()
