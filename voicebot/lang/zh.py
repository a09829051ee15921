"""Mandarin Chinese: numbers read with cn2an (一百八 = 180, 两块五 = 2.5, 十来个), said the way people say
prices (两百块, 两块五, 三毛), text matched without spaces and product names compared by pinyin.

Chinese uses cn2an for the numeral itself (it reads colloquial 一百八 = 180, 两千五 = 2500) plus our own
handling of money (两块五 = 2.5, 一块五毛 = 1.5, 三毛 = 0.3), approximations (十来个, 二十多) and words that
contain numerals but are not quantities (十分, 一下, 万一).
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

import cn2an
import jieba
import opencc

from voicebot.lang.base import CjkLanguage, Number, fen, rejected_spans, split_amount, tidy, unit_at
from voicebot.lang.packs import Pack


@functools.cache
def _word_counts() -> dict[str, int]:
    """jieba's dictionary: how often each Mandarin word is used."""
    jieba.setLogLevel(60)
    jieba.dt.check_initialized()
    return jieba.dt.FREQ


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    """Traditional characters as simplified (Whisper sometimes writes 錢 for 钱); other text unchanged."""
    return _t2s().convert(text) if _HAN.search(text) else text


_ZH_DIGITS = "零〇一二两三四五六七八九"
_ZH_CHARS = _ZH_DIGITS + "十百千万亿"
_ZH_RUN = re.compile(rf"\d+(?:\.\d+)?|[{_ZH_CHARS}俩仨]+(?:点[{_ZH_DIGITS}]+)?")
# Whisper mixes Arabic digits with numeral words: 3万, 2.5万, 1千2百, 2万5 and 1块5 (= 一块五, 1.5 yuan).
_ZH_MIXED = re.compile(r"\d+(?:\.\d+)?[十百千万亿](?:\d+(?:\.\d+)?[十百千万亿]?)*")
_ZH_YUAN_JIAO = re.compile(r"(?<![\d.])(\d+)块(\d)(?:毛钱|毛|角)?(?=$|[^\w.]|一|每)")


def zh_mixed_digits(text: str) -> str:
    """Numbers that mix Arabic digits with numeral words rewritten as plain digits (2万5 -> 25000).

    Plain digit numbers (30块, 2.5元) are left alone: find_zh reads them directly.
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


_JIAO = ("毛", "毛钱", "角")


def _zh_numeral(text: str, start: int, end: int, run: str) -> tuple[float, int, bool] | None:
    """The value of the numeral ``run`` at ``start:end``, with 几 beside it (十几, 几十: approximate).

    Returns (value, end, approximate) or None when it is not a number."""
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
    return None if value is None else (value, end, approximate)


def _zh_tenths(text: str, end: int, pack: Pack, after: tuple[str, ...] = ("毛钱", "毛", "角")) -> tuple[float, int]:
    """两块五 / 一块五毛: a single digit after 块 is tenths, unless a counter follows (三十块一斤); ``after``:
    the unit that may name them (八毛五分: 分 after a digit after 毛).

    Returns (tenths, end after them); (0, end) when there are none."""
    if not (
        end < len(text)
        and text[end] in _ZH_SINGLE
        and text[end] not in "零〇"
        and not (end + 1 < len(text) and text[end + 1] in "十百千万亿")
    ):
        return 0.0, end
    unit = unit_at(text, end + 1, pack.units)
    # 十五块一块 (a bar of soap at 15): a unit other than 毛/角 after the digit makes it a new number.
    if unit is not None and unit not in after:
        return 0.0, end
    tenths, end = _ZH_SINGLE[text[end]] / 10, end + 1
    named = unit_at(text, end, after) if text.startswith(after, end) else None
    return tenths, end + (len(named) if named else 0)


# Two neighbouring digits say "one or two" (一两个, 三两斤, 三四十斤): approximate, the larger one read back.
_NEIGHBOURS = {"一两", "一二", "两三", "二三", "三两", "三四", "四五", "五六", "六七", "七八", "八九"}


def _liang(run: str, text: str, end: int, pack: Pack) -> bool:
    """二两 / 三两 / 半两 said of a weight: the 两 is the unit liang (0.1 jin), not the numeral two; 三两斤
    (two or three jin) and 一两个 keep it a numeral."""
    return (len(run) >= 2 and run.endswith("两") and run[-2] in "一二三四五六七八九十" and "两" not in run[:-1]
            and unit_at(text, end, pack.units) is None)  # fmt: skip


def find_zh(text: str, pack: Pack) -> list[Number]:
    rejects = rejected_spans(text, pack.number_rejects)
    out: list[Number] = []
    pos = 0
    while m := _ZH_RUN.search(text, pos):
        start, end, run = m.start(), m.end(), m.group()
        pos = end
        # A numeral wholly inside a non-quantity word ("十分好", "一下"), unless it is a decimal (一点五).
        if any(a <= start and end <= b for a, b in rejects):
            continue
        if _liang(run, text, end, pack):  # 二两: two liang, a tenth of a jin each
            value = _zh_value(run[:-1])
            if value is not None:
                out.append(Number(tidy(value / 10), start, end, run, "斤", "count"))
                continue
        if run[:2] in _NEIGHBOURS and run[2:] in ("", "十", "百", "千", "万"):  # 一两个, 两三斤, 三四十斤
            run, approximate_pair = run[1:], True
        else:
            approximate_pair = False
        read = _zh_numeral(text, start, end, run) if not approximate_pair else (_zh_value(run), end, True)
        if read is None:
            continue
        value, end, approximate = read
        if text.startswith(("号", "日"), end) and not text.startswith("号码", end):
            continue  # 一号那天, 三号订单: a day or an order's number, not an amount
        if text.startswith("来", end) and unit_at(text, end + 1, pack.units) or text.startswith("多", end) and not text.startswith("多少", end):
            approximate, end = True, end + 1
        unit = unit_at(text, end, pack.units)
        kind = None
        if unit in _JIAO:
            value, kind = value / 10, "money"
            end += len(unit)
            cents, end = _zh_tenths(text, end, pack, after=("分",))  # 八毛五: a digit after 毛 is fen (0.85)
            value += cents / 10
        elif unit in pack.money_units:
            kind = "money"
            end += len(unit)
            tenths, end = _zh_tenths(text, end, pack)
            value += tenths
            if not tenths and text.startswith("钱", end):
                end += 1
        elif unit:
            kind = "count"
            end += len(unit)
        if unit and text.startswith("半", end) and unit not in _JIAO:
            value, end = value + 0.5, end + 1  # 一斤半, 两块半: and a half
        out.append(Number(tidy(value), start, end, text[start:end], unit, kind, approximate))
        pos = end
    return _halves(text, pack, out)


def _halves(text: str, pack: Pack, found: list[Number]) -> list[Number]:
    """半斤, 半瓶: half of a unit, said without a numeral (一半 and 半天 are not quantities)."""
    if "半" not in text:
        return found
    out = list(found)
    for m in re.finditer("半", text):
        at = m.start()
        unit = unit_at(text, at + 1, pack.count_units)
        if unit is None or any(n.start <= at < n.end for n in found) or (at > 0 and text[at - 1] in _ZH_CHARS):
            continue
        out.append(Number(0.5, at, at + 1 + len(unit), text[at : at + 1 + len(unit)], unit, "count"))
    return sorted(out, key=lambda n: n.start)


# ---------------------------------------------------------------- speaking


def zh_int(n: int) -> str:
    """200 -> 两百, 2200 -> 两千两百, 20 -> 二十, 2 -> 两 (before a measure word)."""
    if n == 2:
        return "两"
    text = cn2an.an2cn(int(n))
    return re.sub(r"(?<![十零])二(?=[百千万亿])", "两", text)


def zh_price(value: float | Decimal, currency: str, word: str) -> str:
    """2.5 -> 两块五, 200 -> 两百块, 0.3 -> 三毛, 1.05 -> 一块零五分 (``word``: the currency's name)."""
    yuan, rest = divmod(fen(value), 100)
    jiao, cents = divmod(rest, 10)
    digit = lambda d: "两" if d == 2 else cn2an.an2cn(d)  # noqa: E731
    if currency != "CNY":
        return f"{zh_int(yuan)}{word}" + (f"{cn2an.an2cn(rest)}分" if rest else "")
    if yuan and not rest:
        return f"{zh_int(yuan)}块"
    if yuan:
        if cents:
            mid = f"{cn2an.an2cn(jiao)}毛" if jiao else "零"
            return f"{zh_int(yuan)}块{mid}{cn2an.an2cn(cents)}分"
        return f"{zh_int(yuan)}块{cn2an.an2cn(jiao)}"
    if jiao and cents:
        return f"{digit(jiao)}毛{cn2an.an2cn(cents)}"
    if jiao:
        return f"{digit(jiao)}毛"
    return f"{digit(cents)}分"


_LETTERS = dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ["诶", "比", "西", "迪", "伊", "艾弗", "吉", "艾尺", "艾", "杰", "开", "艾勒", "艾马", "艾娜", "欧", "屁",
     "吉吾", "艾儿", "艾丝", "提", "伊吾", "维", "达布溜", "艾克斯", "歪", "贼德"], strict=True))  # fmt: skip
_PLAIN_DIGITS = "零一二三四五六七八九"


class Chinese(CjkLanguage):
    sentence_sep = ""
    full_stop = "。"
    pinyin_matching = True
    symbols = {"%": "百分之", "+": "加"}

    def prepare(self, text: str) -> str:
        return zh_mixed_digits(to_simplified(text))

    def find_numbers(self, text: str) -> list[Number]:
        return find_zh(text, self.pack)

    def warm(self) -> None:
        _word_counts()  # jieba's dictionary: about a second, not in the middle of a turn

    def word_count(self, word: str) -> int:
        return _word_counts().get(word, 0)

    def name_form(self, text: str) -> str:
        return text.replace(" ", "")

    def number(self, n: int) -> str:
        return zh_int(n)

    def ordinal(self, n: int) -> str:
        return cn2an.an2cn(int(n))

    def quantity(self, n: int | float | Decimal, unit: str) -> str:
        """十条; goods by weight as people say them: 半斤, 一斤半, 二点二五斤."""
        whole, digits = split_amount(n)
        if not digits:
            return f"{zh_int(whole)}{unit}"
        if digits == "5":
            return f"{zh_int(whole)}{unit}半" if whole else f"半{unit}"
        head = cn2an.an2cn(whole) if whole else "零"
        return f"{head}点{''.join(_PLAIN_DIGITS[int(d)] for d in digits)}{unit}"

    def price(self, value: float | Decimal, currency: str) -> str:
        return zh_price(value, currency, self.pack.replies["currency"].get(currency, "块"))

    def digits(self, digits: str) -> list[str]:
        return [_PLAIN_DIGITS[int(d)] for d in digits]

    def speak_number(self, digits: str, after: str) -> str:
        whole, _, frac = digits.partition(".")
        # 两 before a measure word ("2条" -> 两条), 二 for a bare number or an ordinal ("2号" -> 二号).
        measured = not frac and bool(re.match(r"[\u4e00-\u9fff]", after)) and after not in "号点年月日楼层期"
        head = zh_int(int(whole)) if measured or int(whole) != 2 else "二"
        return head + ("点" + "".join(self.digits(frac)) if frac else "")

    def prepare_speech(self, text: str) -> str:
        return re.sub(r"(\d+(?:\.\d+)?)%", r"百分之\1", text)

    def speakable(self, text: str) -> str:
        text = re.sub(r"[A-Za-z]", lambda m: _LETTERS[m.group().upper()], text)
        return re.sub(r"\s+", "", text)


LANGUAGE = Chinese
