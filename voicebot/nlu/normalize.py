"""Text normalisation shared by intent rules, numbers and matching."""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

from voicebot.lang import language
from voicebot.nlu.packs import load_pack

_PUNCT = re.compile(r"[^\w\s'$.]|(?<!\d)\.|\.(?!\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    """Traditional characters as simplified (Whisper sometimes writes 錢 for 钱); other text unchanged."""
    return _t2s().convert(text) if _HAN.search(text) else text


def normalize(text: str, lang: str) -> str:
    """NFKC, lower-case, simplified characters (zh), punctuation dropped; cjk packs also drop spaces
    (Vosk zh/ko output is split).

    The pack's ``rewrites`` then turn colloquial spellings into the usual ones (gimme -> give me, 啥 -> 什么).
    """
    text = unicodedata.normalize("NFKC", text).lower()  # full-width digits and punctuation too
    text = _THOUSANDS.sub("", text)  # 1,000 -> 1000
    text = language(lang).prepare(text)  # zh: simplified characters, 2万5 -> 25000
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
