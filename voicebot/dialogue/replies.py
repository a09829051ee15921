"""Spoken replies: the templates in each language pack (packs/<lang>.yaml, ``replies:``) and numbers said aloud.

Prices are said the way people say them ("两百块", "两块五", "two hundred yuan", "이백 원");
quantities carry their measure word ("两条", "十个"). Numbers are words, not digits, so the TTS
voice never has to guess how to read them.
"""

from __future__ import annotations

import functools
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import cn2an

from voicebot.nlu.packs import available_languages, load_pack


def load_replies(lang: str) -> dict[str, Any]:
    """The reply templates of ``lang``'s pack (zh for a language without a pack)."""
    return load_pack(lang if lang in available_languages() else "zh").replies


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


class Amount(str):
    """A spoken count ("three jars") that remembers its number and unit, for English grammar."""

    n: int
    unit: str

    def __new__(cls, text: str, n: int, unit: str) -> Amount:
        amount = super().__new__(cls, text)
        amount.n, amount.unit = n, unit
        return amount


@functools.cache
def _inflect() -> Any:
    import inflect  # ~0.2 s to import: only when English is spoken

    return inflect.engine()


def en_plural(phrase: str, n: int, singular: bool = False) -> str:
    """``phrase`` with its last word made to agree with ``n`` ("bracelet" -> "bracelets"; a name already
    plural, "turquoise earrings", stays). With ``singular`` a plural word is made singular for one
    ("jars" -> "jar"), for counters; product names keep their own number."""
    if not phrase:
        return phrase
    head, _, word = phrase.rpartition(" ")
    engine = _inflect()
    as_singular = engine.singular_noun(word) or word
    if n == 1:
        word = as_singular if singular else word
    elif as_singular == word:  # not already plural
        word = engine.plural_noun(word)
    return f"{head} {word}" if head else word


def en_count(n: int, noun: str) -> str:
    """ "one order", "three orders": a number and a noun that agrees with it."""
    return f"{en_int(n)} {en_plural(noun, n, singular=True)}"


def say(lang: str, key: str, **fields: Any) -> str:
    """Render template ``key`` (dotted for nested: ``done.add_product``); missing fields are blank."""
    node: Any = load_replies(lang)
    for part in key.split("."):
        node = node[part]
    template = str(node)
    amount, product = fields.get("quantity"), fields.get("product")
    if lang == "en" and isinstance(amount, Amount) and product and "{quantity} more {product}" in template:
        # "ten more jars of honey", "two more bracelets"
        unit = en_plural(amount.unit, amount.n, singular=True) if amount.unit else ""
        more = f"{en_int(amount.n)} more " + (
            f"{unit} of {product}" if unit else en_plural(product, amount.n)
        )
        template = template.replace("{quantity} more {product}", "{_items}")
        fields = {**fields, "_items": more}
    if lang == "en" and isinstance(amount, Amount) and product and "{quantity} {product}" in template:
        # "three jars of honey", "two turquoise bracelets"
        items = f"{amount} of {product}" if amount.unit else f"{amount} {en_plural(product, amount.n)}"
        template = template.replace("{quantity} {product}", "{_items}")
        fields = {**fields, "_items": items}
    if lang == "en" and product and "five {product}" in template:  # an example count: "add five honeys"
        template = template.replace("five {product}", "five {_plural}")
        fields = {**fields, "_plural": en_plural(str(product), 5)}
    return template.format_map(_Blank(fields))


def capitalized(lang: str, text: str) -> str:
    """An English sentence starts with a capital ("a customer ..." -> "A customer ...")."""
    return text[:1].upper() + text[1:] if lang == "en" else text


def has(lang: str, key: str) -> bool:
    node: Any = load_replies(lang)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def join(lang: str, items: list[str], sep: str = "list_sep") -> str:
    """Items read one after another; ``sep="order_sep"`` pauses longer between whole orders."""
    return load_replies(lang)[sep].join(items)


def sentences(lang: str, *parts: str) -> str:
    """Join spoken sentences (no space between Chinese sentences)."""
    return ("" if lang == "zh" else " ").join(p for p in parts if p)


def default_unit(lang: str) -> str:
    return load_replies(lang).get("default_unit") or ""


# --- Chinese -------------------------------------------------------------------------------------


def zh_int(n: int) -> str:
    """200 -> 两百, 2200 -> 两千两百, 20 -> 二十, 2 -> 两 (before a measure word)."""
    if n == 2:
        return "两"
    text = cn2an.an2cn(int(n))
    return re.sub(r"(?<![十零])二(?=[百千万亿])", "两", text)


def zh_price(value: float | Decimal, currency: str = "CNY") -> str:
    """2.5 -> 两块五, 200 -> 两百块, 0.3 -> 三毛, 1.05 -> 一块零五分."""
    fen = int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    word = load_replies("zh")["currency"].get(currency, "块")
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


# --- English -------------------------------------------------------------------------------------

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def en_int(n: int) -> str:
    """220 -> two hundred and twenty."""
    if n < 0:
        return "minus " + en_int(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            head, rest = divmod(n, size)
            tail = "" if not rest else (" and " if rest < 100 else " ") + en_int(rest)
            return f"{en_int(head)} {name}{tail}"
    return str(n)  # unreachable


def en_price(value: float | Decimal, currency: str = "CNY") -> str:
    """200 -> two hundred yuan, 2.5 -> two yuan fifty, 0.3 -> thirty cents."""
    fen = int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    whole, cents = divmod(fen, 100)
    word = load_replies("en")["currency"].get(currency, currency.lower())
    if whole == 1 and word == "dollars":
        word = "dollar"
    if not whole:
        return f"{en_int(cents)} cents" if currency == "USD" else f"{en_int(cents)} fen"
    return f"{en_int(whole)} {word}" + (f" {en_int(cents)}" if cents else "")


# --- Korean --------------------------------------------------------------------------------------

_KO_DIGITS = ["", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
_KO_NATIVE_ONES = ["", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉"]
_KO_NATIVE_TENS = ["", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]


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
                out += ("" if d == 1 and name else _KO_DIGITS[d]) + name
        parts.append(out)
    return " ".join(parts)


def ko_count(n: int) -> str:
    """Native Korean before a counter for 1..99 (두 개, 스무 개), Sino-Korean above."""
    if not 0 < n < 100:
        return ko_sino(n)
    tens, ones = divmod(n, 10)
    if n == 20:
        return "스무"
    return _KO_NATIVE_TENS[tens] + _KO_NATIVE_ONES[ones]


def ko_price(value: float | Decimal, currency: str = "CNY") -> str:
    fen = int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    whole, cents = divmod(fen, 100)
    word = load_replies("ko")["currency"].get(currency, "원")
    out = f"{ko_sino(whole)} {word}" if whole else ""
    if cents:
        out = (out + " " if out else "") + f"{ko_sino(cents)} 전"
    return out or f"영 {word}"


# --- Language-neutral entry points ---------------------------------------------------------------


def price(lang: str, value: float | Decimal | None, currency: str = "CNY") -> str:
    """A price as people say it in ``lang``."""
    if value is None:
        return ""
    if lang == "en":
        return en_price(value, currency)
    if lang == "ko":
        return ko_price(value, currency)
    return zh_price(value, currency)


def quantity(lang: str, n: int | float | None, unit: str | None = None) -> str:
    """A count with its measure word: 十条 / ten / 두 개."""
    if n is None:
        return ""
    n = int(n)
    unit = unit if unit else default_unit(lang)
    if lang == "en":
        return Amount(en_int(n) + (f" {en_plural(unit, n, singular=True)}" if unit else ""), n, unit or "")
    if lang == "ko":
        return f"{ko_count(n)} {unit}".strip()
    return f"{zh_int(n)}{unit}"


def count(lang: str, n: int) -> str:
    """A number said before a measure word: 两 (条), two, 두 (개)."""
    if lang == "en":
        return en_int(n)
    if lang == "ko":
        return ko_count(n)
    return zh_int(n)


def ordinal(lang: str, n: int) -> str:
    """An order's number as said before 号 / after "order": 三 (not 两), three, 삼."""
    if lang == "en":
        return en_int(n)
    if lang == "ko":
        return ko_sino(n)
    return cn2an.an2cn(int(n))


def number(lang: str, n: int) -> str:
    """A bare count ("还有三样", "three more")."""
    if lang == "en":
        return en_int(n)
    if lang == "ko":
        return ko_sino(n)
    return zh_int(n)
