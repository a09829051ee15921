"""Text normalisation shared by intent rules, numbers and matching."""

from __future__ import annotations

import functools
import re
import unicodedata

from voicebot.nlu.packs import load_pack

_PUNCT = re.compile(r"[^\w\s'$.]|(?<!\d)\.|\.(?!\d)")


def normalize(text: str, lang: str) -> str:
    """NFKC, lower-case, punctuation dropped; cjk packs also drop spaces (Vosk zh/ko output is split).

    The pack's ``rewrites`` then turn colloquial spellings into the usual ones (gimme -> give me, 啥 -> 什么).
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("[unk]", " ")
    text = _PUNCT.sub(" ", text)
    pack = load_pack(lang)
    if pack.script == "cjk":
        text = re.sub(r"\s+", "", text)
        for old, new in pack.rewrites.items():
            text = text.replace(old, new)
        return text
    text = re.sub(r"\s+", " ", text).strip()
    if pack.rewrites:
        text = _latin_rewrites(lang).sub(lambda m: pack.rewrites[m.group()], text)
        text = re.sub(r"\s+", " ", text).strip()  # a filler rewritten to nothing leaves a gap
    return text


@functools.cache
def _latin_rewrites(lang: str) -> re.Pattern[str]:
    rewrites = load_pack(lang).rewrites
    alts = "|".join(re.escape(w) for w in sorted(rewrites, key=len, reverse=True))
    return re.compile(rf"(?<![\w'])(?:{alts})(?![\w'])")
