"""Text normalisation shared by intent rules, numbers and matching."""

from __future__ import annotations

import re
import unicodedata

from voicebot.lang import language

_PUNCT = re.compile(r"[^\w\s'$.]|(?<!\d)\.|\.(?!\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# Markup pasted into a chat (<script>alert(16)</script>, <b>sold</b>): the tags and what a script or style
# element holds are not words anyone said, and their numbers are not quantities.
_MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)|</?[a-z][^<>]{0,300}>", re.IGNORECASE | re.DOTALL)
# Where a written sentence pauses: a clause ends here (a decimal point is not a pause).
_CLAUSE = re.compile(r"[,;!?\n\u3001\u3002\uff1b\uff01\uff1f]+|(?<!\d)\.|\.(?!\d)")


def strip_markup(text: str) -> str:
    """Text without HTML-like tags (and without the contents of script/style elements)."""
    return _MARKUP.sub(" ", text) if "<" in text else text


def normalize(text: str, lang: str) -> str:
    """NFKC, lower-case, simplified characters (zh), punctuation dropped; cjk packs also drop spaces
    (Vosk zh/ko output is split).

    The pack's ``rewrites`` then turn colloquial spellings into the usual ones (gimme -> give me, 啥 -> 什么).
    """
    text = unicodedata.normalize("NFKC", text).lower()  # full-width digits and punctuation too
    text = _THOUSANDS.sub("", strip_markup(text))  # 1,000 -> 1000
    text = language(lang).prepare(text)  # zh: simplified characters, 2万5 -> 25000
    text = text.replace("’", "'").replace("[unk]", " ")
    text = _PUNCT.sub(" ", text)
    return language(lang).spacing(text)  # zh: no spaces; en: single spaces; then the pack's rewrites


def clauses(text: str, lang: str) -> list[str]:
    """``text`` cut where it pauses (a comma, a full stop ...): the clauses as written, empty ones left out.

    A pause separates two numbers (一百八，十个 is 180 and 10), and small talk before a command is a clause
    of its own (早上坐车花了十块，对了，卖了一瓶蜂蜜).
    """
    text = _THOUSANDS.sub("", strip_markup(unicodedata.normalize("NFKC", text)))
    return [c for c in _CLAUSE.split(text) if normalize(c, lang)]


def clause_spans(text: str, lang: str, limit: int = 8, whole: str | None = None) -> list[tuple[int, int]]:
    """Where each clause of ``text`` is in ``whole`` = ``normalize(text, lang)`` (one span for the whole text
    when the clauses do not line up with it, or when there are more than ``limit``: a pasted page, not a
    sentence)."""
    whole = normalize(text, lang) if whole is None else whole
    pauses = len(_CLAUSE.findall(unicodedata.normalize("NFKC", text)))
    if pauses >= limit or not pauses:  # no pause: one clause
        return [(0, len(whole))]
    parts = [normalize(c, lang) for c in clauses(text, lang)]
    sep = language(lang).word_sep
    if len(parts) < 2 or sep.join(parts) != whole:
        return [(0, len(whole))]
    spans, at = [], 0
    for p in parts:
        spans.append((at, at + len(p)))
        at += len(p) + len(sep)
    return spans
