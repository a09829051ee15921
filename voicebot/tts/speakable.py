"""Text fit for a synthesiser: numbers as the language's words, Latin letters spelled where the voice
would read them with English rules.

Templates already say prices and counts in words, but slot values (product names like "2号手链",
"iPhone壳", a customer "A姐") can carry digits and Latin letters. A Mandarin voice reads Latin
letters with English rules (espeak-ng switches to ``(en)``) and Kokoro reads "2条" as 二条, so
both are replaced before synthesis. How each language says them is its module (``voicebot/lang/``).
"""

from __future__ import annotations

import re
import unicodedata

from voicebot.lang import Language, installed_languages, language

_FULLWIDTH = re.compile(r"[０-９Ａ-Ｚａ-ｚ．％＋]")  # fullwidth digits and letters; punctuation stays
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SYMBOLS = ("%", "+")  # said as the language's word (a space where it has none)


def _number(spoken: Language, digits: str, after: str = "") -> str:
    whole = digits.partition(".")[0]
    if len(whole) > 12:  # a code, not an amount: say it digit by digit
        return " ".join(spoken.digits(whole))
    return spoken.speak_number(digits, after)


def speakable(text: str, lang: str) -> str:
    """``text`` with every digit said as words and (zh, ko) every Latin letter spelled out."""
    spoken = language(lang) if lang in installed_languages() else Language(lang)
    text = _FULLWIDTH.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = spoken.prepare_speech(text)
    for symbol in _SYMBOLS:
        text = text.replace(symbol, spoken.symbols.get(symbol, " "))
    text = _NUMBER.sub(lambda m: _number(spoken, m.group(), m.string[m.end():m.end() + 1]), text)
    text = spoken.speakable(text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
