"""Spoken numbers in zh, en and ko: find them in a transcript, with their unit and whether they are approximate.

Chinese uses cn2an for the numeral itself (it reads colloquial 一百八 = 180, 两千五 = 2500) plus our own
handling of money (两块五 = 2.5, 一块五毛 = 1.5, 三毛 = 0.3), approximations (十来个, 二十多) and words that
contain numerals but are not quantities (十分, 一下, 万一). English uses text2num for standard spans and
handles "a dozen", "a couple", "one fifty" and "two dollars fifty" itself. Korean reads Sino-Korean
(삼천오백) and native (두, 스물) numbers, which must be followed by a unit (원, 개, 병 ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import cn2an
from text_to_num import text2num

from voicebot.nlu.packs import load_pack


@dataclass(frozen=True)
class Number:
    """A number found in normalised text; ``start``/``end`` are character offsets in that text."""

    value: int | float
    start: int
    end: int
    text: str
    unit: str | None = None
    kind: str | None = None  # "money" when the unit is a currency, "count" for a counter word, else None
    approximate: bool = False


def tidy(value: float) -> int | float:
    """An int when the value is whole, else a float rounded to cents."""
    value = round(float(value), 2)
    return int(value) if value == int(value) else value


def find_numbers(text: str, lang: str) -> list[Number]:
    """All quantities in ``text`` (already normalised: cjk without spaces, latin lower-case), in order."""
    if lang == "zh":
        return _find_zh(text)
    if lang == "en":
        return _find_en(text)
    if lang == "ko":
        return _find_ko(text)
    return [Number(tidy(float(m.group())), m.start(), m.end(), m.group()) for m in re.finditer(r"\d+(?:\.\d+)?", text)]


class SpokenNumber(NamedTuple):
    value: int | float
    approximate: bool


def parse_number(text: str, lang: str, money: bool = False) -> SpokenNumber | None:
    """The number in a short answer ("两块五", "十来个", "a dozen") as (value, approximate), or None.

    With ``money`` a number said with a currency unit is preferred, else one said with a counter.
    """
    from voicebot.nlu.normalize import normalize

    found = find_numbers(normalize(text, lang), lang)
    if not found:
        return None
    wanted = "money" if money else "count"
    best = next((n for n in found if n.kind == wanted), found[0])
    return SpokenNumber(best.value, best.approximate)


# ---------------------------------------------------------------- Chinese

_ZH_DIGITS = "零〇一二两三四五六七八九"
_ZH_CHARS = _ZH_DIGITS + "十百千万亿"
_ZH_RUN = re.compile(rf"\d+(?:\.\d+)?|[{_ZH_CHARS}俩仨]+(?:点[{_ZH_DIGITS}]+)?")
# Whisper mixes Arabic digits with numeral words: 3万, 2.5万, 1千2百, 2万5 and 1块5 (= 一块五, 1.5 yuan).
_ZH_MIXED = re.compile(r"\d+(?:\.\d+)?[十百千万亿](?:\d+(?:\.\d+)?[十百千万亿]?)*")
_ZH_YUAN_JIAO = re.compile(r"(?<![\d.])(\d+)块(\d)(?:毛钱|毛|角)?(?=$|[^\w.]|一|每)")


def zh_mixed_digits(text: str) -> str:
    """Numbers that mix Arabic digits with numeral words rewritten as plain digits (2万5 -> 25000).

    Plain digit numbers (30块, 2.5元) are left alone: _find_zh reads them directly.
    """
    if not any(c.isdigit() for c in text):
        return text

    def mixed(m: re.Match[str]) -> str:
        try:
            return str(tidy(float(cn2an.cn2an(m.group(), "smart"))))
        except (ValueError, KeyError):
            return m.group()

    text = _ZH_YUAN_JIAO.sub(lambda m: f"{m.group(1)}.{m.group(2)}块", text)
    return _ZH_MIXED.sub(mixed, text)


_ZH_SINGLE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2, "俩": 2, "仨": 3}


def _zh_value(run: str) -> float | None:
    if run[0].isdigit():
        return float(run)
    run = run.replace("俩", "两").replace("仨", "三")
    try:
        return float(cn2an.cn2an(run, "smart"))
    except (ValueError, KeyError, IndexError):
        return None


def _rejected_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    spans = []
    for w in words:
        for m in re.finditer(re.escape(w), text):
            spans.append((m.start(), m.end()))
    return spans


def _unit_at(text: str, pos: int, units: tuple[str, ...]) -> str | None:
    for u in sorted(units, key=len, reverse=True):
        if text.startswith(u, pos):
            return u
    return None


def _find_zh(text: str) -> list[Number]:
    pack = load_pack("zh")
    rejects = _rejected_spans(text, pack.number_rejects)
    out: list[Number] = []
    pos = 0
    while True:
        m = _ZH_RUN.search(text, pos)
        if not m:
            break
        start, end, run = m.start(), m.end(), m.group()
        pos = end
        # A numeral wholly inside a non-quantity word ("十分好", "一下"), unless it is a decimal (一点五).
        if any(a <= start and end <= b for a, b in rejects):
            continue
        # "几" next to a numeral: 十几个 (approximate), 几十 (approximate); a bare 几 is a question.
        approximate = False
        if text.startswith("几", end) and run[-1] in "十百千万":
            approximate, end = True, end + 1
        elif start > 0 and text[start - 1] == "几" and run[0] in "十百千万":
            approximate = True
            run = "一" + run
        value = _zh_value(run)
        while value is None and len(run) > 1 and not approximate:
            # 四十五一瓶: the run is two numbers; keep the longest prefix that reads as one.
            run, end = run[:-1], end - 1
            value = _zh_value(run)
        if value is None:
            continue
        if text.startswith("来", end) and _unit_at(text, end + 1, pack.units) or text.startswith("多", end) and not text.startswith("多少", end):
            approximate, end = True, end + 1
        unit = _unit_at(text, end, pack.units)
        kind = None
        if unit in ("毛", "毛钱", "角"):
            value, kind = value / 10, "money"
            end += len(unit)
        elif unit in pack.money_units:
            kind = "money"
            end += len(unit)
            # 两块五 / 一块五毛: a single digit after 块 is tenths, unless a counter follows (三十块一斤).
            if (
                end < len(text)
                and text[end] in _ZH_SINGLE
                and text[end] not in "零〇"
                and not (end + 1 < len(text) and text[end + 1] in "十百千万亿")
            ):
                tail = end + 1
                after = _unit_at(text, tail, pack.units)
                # 十五块一块 (a bar of soap at 15): a unit other than 毛/角 after the digit makes it a new number.
                if after is None or after in ("毛", "毛钱", "角"):
                    value += _ZH_SINGLE[text[end]] / 10
                    end = tail
                    jiao = _unit_at(text, end, ("毛钱", "毛", "角"))
                    if jiao:
                        end += len(jiao)
            elif text.startswith("钱", end):
                end += 1
        elif unit:
            kind = "count"
            end += len(unit)
        out.append(Number(tidy(value), start, end, text[start:end], unit, kind, approximate))
        pos = end
    return out


# ---------------------------------------------------------------- English

_EN_UNITS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
    )
}
_EN_TENS = {w: 10 * (i + 2) for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_EN_NUMWORDS = set(_EN_UNITS) | set(_EN_TENS) | set(_EN_SCALES)
_EN_APPROX_BEFORE = {"about", "around", "roughly", "approximately", "nearly", "almost", "some"}
_EN_TOKEN = re.compile(r"\$?\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?")


def _en_eval(words: list[str]) -> float | None:
    """Value of a run of number words; colloquial "one fifty" = 150."""
    words = [w for w in words if w != "and"]
    if not words:
        return None
    # "twelve fifty", "nineteen ninety nine": dollars then cents.
    if len(words) >= 2 and words[0] in _EN_UNITS and _EN_UNITS[words[0]] >= 10 and words[1] in _EN_TENS:
        cents = _en_eval(words[1:])
        if cents is not None and cents < 100:
            return _EN_UNITS[words[0]] + cents / 100
    try:
        return float(text2num(" ".join(words), "en"))
    except ValueError:
        pass
    # "one fifty", "two twenty five": a digit then a tens word reads as hundreds.
    if len(words) >= 2 and words[0] in _EN_UNITS and 0 < _EN_UNITS[words[0]] < 10 and words[1] in _EN_TENS:
        rest = _en_eval(words[1:])
        return None if rest is None else _EN_UNITS[words[0]] * 100 + rest
    total = current = 0
    for w in words:
        if w in _EN_UNITS:
            current += _EN_UNITS[w]
        elif w in _EN_TENS:
            current += _EN_TENS[w]
        elif w == "hundred":
            current = (current or 1) * 100
        elif w in _EN_SCALES:
            total += (current or 1) * _EN_SCALES[w]
            current = 0
        else:
            return None
    return float(total + current)


_EN_TENS = frozenset({"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"})
_EN_TEENS = frozenset(
    {"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
)


def _find_en(text: str) -> list[Number]:
    pack = load_pack("en")
    tokens = [(m.group(), m.start(), m.end()) for m in _EN_TOKEN.finditer(text)]
    rejects = _rejected_spans(text, pack.number_rejects)
    out: list[Number] = []
    i = 0
    while i < len(tokens):
        word, start, _ = tokens[i]
        j = i
        value: float | None = None
        if re.fullmatch(r"\$?\d+(?:\.\d+)?", word):
            value, j = float(word.lstrip("$")), i + 1
            if word.startswith("$"):
                out.append(Number(tidy(value), start, tokens[i][2], word, "dollars", "money"))
                i += 1
                continue
        elif word in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1][0] in ("hundred", "thousand"):
            k = i + 1
            while k < len(tokens) and (tokens[k][0] in _EN_NUMWORDS or tokens[k][0] == "and"):
                k += 1
            while tokens[k - 1][0] == "and":
                k -= 1
            value, j = _en_eval(["one"] + [t[0] for t in tokens[i + 1 : k]]), k
        elif word in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1][0] == "dozen":
            value, j = 12.0, i + 2
        elif word in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1][0] == "couple":
            value, j = 2.0, i + 2
            if j < len(tokens) and tokens[j][0] == "of":
                j += 1
        elif word in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1][0] == "few":
            out.append(Number(3, start, tokens[i + 1][2], "a few", None, None, True))
            i += 2
            continue
        elif word in ("a", "an", "one") and i + 1 < len(tokens) and tokens[i + 1][0] in pack.count_units:
            value, j = 1.0, i + 1
        elif word in _EN_NUMWORDS and word not in _EN_SCALES:
            k = i
            while k < len(tokens) and (tokens[k][0] in _EN_NUMWORDS or tokens[k][0] == "and"):
                if k > i and tokens[k - 1][0] in _EN_TENS and tokens[k][0] in _EN_TENS | _EN_TEENS:
                    break  # "price ninety ten in stock": two numbers, not one hundred
                k += 1
            while tokens[k - 1][0] == "and":
                k -= 1
            value, j = _en_eval([t[0] for t in tokens[i:k]]), k
        elif word in ("dozen", "couple") and i > 0:
            value, j = (12.0 if word == "dozen" else 2.0), i + 1
        if value is None:
            i += 1
            continue
        end = tokens[j - 1][2]
        if any(a <= start and end <= b for a, b in rejects):
            i = j
            continue
        if j < len(tokens) and tokens[j][0] == "dozen" and word != "a":
            value, end, j = value * 12, tokens[j][2], j + 1
        approximate = i > 0 and tokens[i - 1][0] in _EN_APPROX_BEFORE
        if j + 1 < len(tokens) and tokens[j][0] == "or" and tokens[j + 1][0] == "so":
            approximate = True
        unit = None
        kind = None
        if j < len(tokens) and tokens[j][0] in pack.units:
            unit = tokens[j][0]
            end = tokens[j][2]
            kind = "money" if unit in pack.money_units else "count"
            if unit in ("cents", "cent"):
                value /= 100
            j += 1
            # "two dollars fifty": the cents follow, at the end or before "cents"/"each".
            if kind == "money" and unit not in ("cents", "cent") and j < len(tokens) and tokens[j][0] in _EN_NUMWORDS:
                k = j
                while k < len(tokens) and tokens[k][0] in _EN_NUMWORDS:
                    k += 1
                cents = _en_eval([t[0] for t in tokens[j:k]])
                if (
                    cents is not None
                    and cents < 100
                    and (k == len(tokens) or tokens[k][0] in ("cents", "cent", "each", "a", "per"))
                ):
                    value += cents / 100
                    end = tokens[k - 1][2]
                    j = k + (1 if k < len(tokens) and tokens[k][0] in ("cents", "cent") else 0)
                    if j > k:
                        end = tokens[j - 1][2]
        elif i > 0 and tokens[i - 1][0] in ("$",):
            kind = "money"
        out.append(Number(tidy(value), start, end, text[start:end], unit, kind, approximate))
        i = j
    return out


# ---------------------------------------------------------------- Korean

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


def _find_ko(text: str) -> list[Number]:
    pack = load_pack("ko")
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
