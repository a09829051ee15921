"""Korean: Sino-Korean (삼천오백) and native (두, 스물) numbers, which must be followed by a unit
(원, 개, 병 ...) to count; native numbers before a counter (두 개), Sino-Korean for prices (이백 원).
"""

from __future__ import annotations

import re
from decimal import Decimal

from voicebot.lang.base import CjkLanguage, Number, fen, tidy
from voicebot.lang.packs import Pack

_KO_SINO = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9}
_KO_SINO_MULT = {"십": 10, "백": 100, "천": 1000}
_KO_NATIVE_UNITS = {
    "하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "넷": 4, "네": 4, "넉": 4,
    "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
}  # fmt: skip
_KO_NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50}


def _ko_sino_value(run: str) -> int | None:
    total = section = digit = 0
    for ch in run:
        if ch in _KO_SINO:
            digit = _KO_SINO[ch]
        elif ch in _KO_SINO_MULT:
            section += (digit or 1) * _KO_SINO_MULT[ch]
            digit = 0
        elif ch == "만":
            total += ((section + digit) or 1) * 10000
            section = digit = 0
        else:
            return None
    return total + section + digit


def find_ko(text: str, pack: Pack) -> list[Number]:
    units = pack.units
    sino_chars = "".join(_KO_SINO) + "".join(_KO_SINO_MULT) + "만"
    tens = "|".join(_KO_NATIVE_TENS)
    ones = "|".join(sorted(_KO_NATIVE_UNITS, key=len, reverse=True))
    unit_alt = "|".join(sorted((re.escape(u) for u in units), key=len, reverse=True))
    pattern = re.compile(
        rf"(?P<digits>\d+(?:\.\d+)?)(?P<u1>{unit_alt})?"
        rf"|(?P<native>(?:{tens})(?:{ones})?|(?:{ones}))(?P<u2>{unit_alt})"
        rf"|(?P<sino>[{sino_chars}]+)(?P<u3>{unit_alt})"
    )
    out: list[Number] = []
    for m in pattern.finditer(text):
        unit = m.group("u1") or m.group("u2") or m.group("u3")
        if m.group("digits"):
            value: float | None = float(m.group("digits"))
        elif m.group("native"):
            word = m.group("native")
            value = 0.0
            for t, v in _KO_NATIVE_TENS.items():
                if word.startswith(t):
                    value, word = float(v), word[len(t) :]
                    break
            value += _KO_NATIVE_UNITS.get(word, 0)
        else:
            sino = _ko_sino_value(m.group("sino"))
            value = None if sino is None else float(sino)
        if not value:
            continue
        kind = None if unit is None else ("money" if unit in pack.money_units else "count")
        out.append(Number(tidy(value), m.start(), m.end(), m.group(), unit, kind))
    return out


# ---------------------------------------------------------------- speaking

_DIGITS = ["", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
_PLAIN_DIGITS = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
_NATIVE_ONES = ["", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉"]
_NATIVE_TENS = ["", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]
_COUNTERS = "개병명마리권잔장벌켤레송이"  # a number written before one of these is said natively: 2개 -> 두개
_LETTERS = dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ["에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠", "엔", "오", "피",
     "큐", "아르", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "제트"], strict=True))  # fmt: skip


def ko_sino(n: int) -> str:
    """Sino-Korean: 200 -> 이백, 12000 -> 만 이천."""
    if n == 0:
        return "영"
    parts = []
    big, small = divmod(n, 10000)
    if big:
        parts.append(("" if big == 1 else ko_sino(big)) + "만")
    if small:
        out = ""
        for size, name in ((1000, "천"), (100, "백"), (10, "십"), (1, "")):
            d, small = divmod(small, size)
            if d:
                out += ("" if d == 1 and name else _DIGITS[d]) + name
        parts.append(out)
    return " ".join(parts)


def ko_count(n: int) -> str:
    """Native Korean before a counter for 1..99 (두 개, 스무 개), Sino-Korean above."""
    if not 0 < n < 100:
        return ko_sino(n)
    tens, ones = divmod(n, 10)
    if n == 20:
        return "스무"
    return _NATIVE_TENS[tens] + _NATIVE_ONES[ones]


def ko_price(value: float | Decimal, word: str) -> str:
    whole, cents = divmod(fen(value), 100)
    out = f"{ko_sino(whole)} {word}" if whole else ""
    if cents:
        out = (out + " " if out else "") + f"{ko_sino(cents)} 전"
    return out or f"영 {word}"


class Korean(CjkLanguage):
    symbols = {"%": " 퍼센트", "+": " 더하기 "}

    def find_numbers(self, text: str) -> list[Number]:
        return find_ko(text, self.pack)

    def number(self, n: int) -> str:
        return ko_sino(n)

    def count(self, n: int) -> str:
        return ko_count(n)

    def price(self, value: float | Decimal, currency: str) -> str:
        return ko_price(value, self.pack.replies["currency"].get(currency, "원"))

    def digits(self, digits: str) -> list[str]:
        return [_PLAIN_DIGITS[int(d)] for d in digits]

    def speak_number(self, digits: str, after: str) -> str:
        whole, _, frac = digits.partition(".")
        head = ko_count(int(whole)) if not frac and after and after in _COUNTERS else ko_sino(int(whole))
        return head + (" 점 " + " ".join(self.digits(frac)) if frac else "")

    def speakable(self, text: str) -> str:
        return re.sub(r"[A-Za-z]", lambda m: _LETTERS[m.group().upper()], text)


LANGUAGE = Korean
