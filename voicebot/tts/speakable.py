"""Text fit for a synthesiser: numbers as the language's words, Latin letters spelled in zh and ko.

Templates already say prices and counts in words, but slot values (product names like "2号手链",
"iPhone壳", a customer "A姐") can carry digits and Latin letters. A Mandarin voice reads Latin
letters with English rules (espeak-ng switches to ``(en)``) and Kokoro reads "2条" as 二条, so
both are replaced before synthesis.
"""

from __future__ import annotations

import re
import unicodedata

from voicebot.dialogue import replies

_ZH_LETTERS = dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ["诶", "比", "西", "迪", "伊", "艾弗", "吉", "艾尺", "艾", "杰", "开", "艾勒", "艾马", "艾娜", "欧", "屁",
     "吉吾", "艾儿", "艾丝", "提", "伊吾", "维", "达布溜", "艾克斯", "歪", "贼德"], strict=True))
_KO_LETTERS = dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ["에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠", "엔", "오", "피",
     "큐", "아르", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "제트"], strict=True))
_ZH_DIGITS = "零一二三四五六七八九"
_KO_DIGITS = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
_FULLWIDTH = re.compile(r"[０-９Ａ-Ｚａ-ｚ．％＋]")  # fullwidth digits and letters; punctuation stays
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SYMBOLS = {"%": {"zh": "百分之", "en": " percent", "ko": " 퍼센트"}, "+": {"zh": "加", "en": " plus ", "ko": " 더하기 "}}


def _number(lang: str, digits: str, after: str = "") -> str:
    whole, _, frac = digits.partition(".")
    if len(whole) > 12:  # a code, not an amount: say it digit by digit
        return " ".join(speak_digits(lang, whole))
    if lang == "zh":
        # 两 before a measure word ("2条" -> 两条), 二 for a bare number or an ordinal ("2号" -> 二号).
        measured = not frac and bool(re.match(r"[\u4e00-\u9fff]", after)) and after not in "号点年月日楼层期"
        head = replies.zh_int(int(whole)) if measured else _zh_plain(int(whole))
    elif lang == "ko" and not frac and after and after in "개병명마리권잔장벌켤레송이":
        head = replies.ko_count(int(whole))  # native numbers before a counter: 2개 -> 두개
    else:
        head = replies.number(lang, int(whole))
    if not frac:
        return head
    if lang == "zh":
        return head + "点" + "".join(_ZH_DIGITS[int(d)] for d in frac)
    if lang == "ko":
        return head + " 점 " + " ".join(_KO_DIGITS[int(d)] for d in frac)
    return head + " point " + " ".join(replies.en_int(int(d)) for d in frac)


def _zh_plain(n: int) -> str:
    # 2 alone is 二 (a bare number, "二号"); 两 only before a measure word, which templates handle.
    return "二" if n == 2 else replies.zh_int(n)


def speak_digits(lang: str, digits: str) -> list[str]:
    if lang == "zh":
        return [_ZH_DIGITS[int(d)] for d in digits]
    if lang == "ko":
        return [_KO_DIGITS[int(d)] for d in digits]
    return [replies.en_int(int(d)) for d in digits]


def _percent(lang: str, text: str) -> str:
    if lang == "zh":
        return re.sub(r"(\d+(?:\.\d+)?)%", r"百分之\1", text)
    return text


def speakable(text: str, lang: str) -> str:
    """``text`` with every digit said as words and (zh, ko) every Latin letter spelled out."""
    text = _FULLWIDTH.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = _percent(lang, text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words.get(lang, " "))
    text = _NUMBER.sub(lambda m: _number(lang, m.group(), m.string[m.end():m.end() + 1]), text)
    if lang in ("zh", "ko"):
        letters = _ZH_LETTERS if lang == "zh" else _KO_LETTERS
        text = re.sub(r"[A-Za-z]", lambda m: letters[m.group().upper()], text)
        if lang == "zh":
            text = re.sub(r"\s+", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
