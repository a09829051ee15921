"""English: numbers read with text2num plus "a dozen", "a couple", "one fifty" and "two dollars fifty",
said as words ("two hundred and twenty yuan"), counts that agree with their noun ("three jars of honey"),
sentences that start with a capital.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

from text_to_num import text2num

from voicebot.lang.base import Language, Number, fen, rejected_spans, split_amount, tidy
from voicebot.lang.packs import Pack

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


_EN_TEENS = frozenset(
    {"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
)


_Token = tuple[str, int, int]  # word, start, end


def _word_run(tokens: list[_Token], i: int, stop_at_second_tens: bool) -> int:
    """The end of the run of number words (and "and") from ``i``, without a trailing "and"."""
    k = i
    while k < len(tokens) and (tokens[k][0] in _EN_NUMWORDS or tokens[k][0] == "and"):
        if stop_at_second_tens and k > i and tokens[k - 1][0] in _EN_TENS and tokens[k][0] in _EN_TENS.keys() | _EN_TEENS:
            break  # "price ninety ten in stock": two numbers, not one hundred
        k += 1
    while tokens[k - 1][0] == "and":
        k -= 1
    return k


def _en_head(tokens: list[_Token], i: int, pack: Pack) -> tuple[float | None, int, Number | None]:
    """The number that starts at token ``i``: (value, index after it, or a whole Number when it is complete)."""
    word, start, end = tokens[i]
    nxt = tokens[i + 1][0] if i + 1 < len(tokens) else None
    if re.fullmatch(r"\$?\d+(?:\.\d+)?", word):
        value = float(word.lstrip("$"))
        if word.startswith("$"):
            return None, i + 1, Number(tidy(value), start, end, word, "dollars", "money")
        return value, i + 1, None
    if word in ("a", "an") and nxt in ("hundred", "thousand"):
        k = _word_run(tokens, i + 1, False)
        return _en_eval(["one"] + [t[0] for t in tokens[i + 1 : k]]), k, None
    if word in ("a", "an") and nxt == "dozen":
        return 12.0, i + 2, None
    if word in ("a", "an") and nxt == "couple":
        j = i + 2
        return 2.0, j + 1 if j < len(tokens) and tokens[j][0] == "of" else j, None
    if word in ("a", "an") and nxt == "few":
        return None, i + 2, Number(3, start, tokens[i + 1][2], "a few", None, None, True)
    if word in ("a", "an", "one") and nxt in pack.count_units:
        return 1.0, i + 1, None
    if word == "half" and nxt in ("a", "an") and i + 2 < len(tokens) and tokens[i + 2][0] in pack.count_units:
        return 0.5, i + 2, None  # half a jin
    if word in _EN_NUMWORDS and word not in _EN_SCALES:
        k = _word_run(tokens, i, True)
        return _en_eval([t[0] for t in tokens[i:k]]), k, None
    if word in ("dozen", "couple") and i > 0:
        return (12.0 if word == "dozen" else 2.0), i + 1, None
    return None, i + 1, None


def _en_cents(tokens: list[_Token], j: int) -> tuple[float, int, int] | None:
    """ "two dollars fifty": cents after the currency word, at the end or before "cents"/"each".

    Returns (cents, index after them, end offset) or None."""
    k = j
    while k < len(tokens) and tokens[k][0] in _EN_NUMWORDS:
        k += 1
    cents = _en_eval([t[0] for t in tokens[j:k]])
    if cents is None or cents >= 100 or not (k == len(tokens) or tokens[k][0] in ("cents", "cent", "each", "a", "per")):
        return None
    after = k + (1 if k < len(tokens) and tokens[k][0] in ("cents", "cent") else 0)
    return cents, after, tokens[after - 1][2]


def _and_a_half(tokens: list[_Token], j: int) -> bool:
    return [t[0] for t in tokens[j : j + 3]] == ["and", "a", "half"]


def find_en(text: str, pack: Pack) -> list[Number]:
    tokens = [(m.group(), m.start(), m.end()) for m in _EN_TOKEN.finditer(text)]
    rejects = rejected_spans(text, pack.number_rejects)
    out: list[Number] = []
    i = 0
    while i < len(tokens):
        word, start, _ = tokens[i]
        value, j, whole = _en_head(tokens, i, pack)
        if whole is not None:
            out.append(whole)
            i = j
            continue
        if value is None:
            i += 1
            continue
        end = tokens[j - 1][2]
        if any(a <= start and end <= b for a, b in rejects):
            i = j
            continue
        if j < len(tokens) and tokens[j][0] == "dozen" and word != "a":
            value, end, j = value * 12, tokens[j][2], j + 1
        if _and_a_half(tokens, j):  # one and a half jin
            value, end, j = value + 0.5, tokens[j + 2][2], j + 3
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
            if kind == "money" and unit not in ("cents", "cent") and j < len(tokens) and tokens[j][0] in _EN_NUMWORDS:
                cents = _en_cents(tokens, j)
                if cents is not None:
                    value, j, end = value + cents[0] / 100, cents[1], cents[2]
            if kind == "count" and value == int(value) and _and_a_half(tokens, j):  # a jin and a half
                value, end, j = value + 0.5, tokens[j + 2][2], j + 3
        elif i > 0 and tokens[i - 1][0] in ("$",):
            kind = "money"
        out.append(Number(tidy(value), start, end, text[start:end], unit, kind, approximate))
        i = j
    return out


# ---------------------------------------------------------------- speaking

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]  # fmt: skip
_TENS_WORDS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def en_int(n: int) -> str:
    """220 -> two hundred and twenty."""
    if n < 0:
        return "minus " + en_int(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS_WORDS[tens] + (f"-{_ONES[ones]}" if ones else "")
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            head, rest = divmod(n, size)
            tail = "" if not rest else (" and " if rest < 100 else " ") + en_int(rest)
            return f"{en_int(head)} {name}{tail}"
    return str(n)  # unreachable


def en_price(value: float | Decimal, currency: str, word: str) -> str:
    """200 -> two hundred yuan, 2.5 -> two yuan fifty, 0.3 -> thirty cents (``word``: the currency's name)."""
    whole, cents = divmod(fen(value), 100)
    if whole == 1 and word == "dollars":
        word = "dollar"
    if not whole:
        return f"{en_int(cents)} cents" if currency == "USD" else f"{en_int(cents)} fen"
    return f"{en_int(whole)} {word}" + (f" {en_int(cents)}" if cents else "")


class Amount(str):
    """A spoken count ("three jars") that remembers its number and unit, for English grammar."""

    n: int | float
    unit: str

    def __new__(cls, text: str, n: int | float, unit: str) -> Amount:
        amount = super().__new__(cls, text)
        amount.n, amount.unit = n, unit
        return amount


@functools.cache
def _inflect() -> Any:
    import inflect  # ~0.2 s to import: only when English is spoken

    return inflect.engine()


def en_singular(word: str) -> str:
    """The singular of one lower-case word by rule: enough for product nouns, and quick enough for product
    matching, which calls it for every word of every window of an utterance (``inflect`` is not)."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes", "oes")):
        return word[:-2]
    if word.endswith("ves") and word not in ("olives", "chives"):
        return word[:-3] + "f"
    if word.endswith("s"):
        return word[:-1]
    return word


_INVARIANT = frozenset({"jin", "liang", "kg"})  # measure words English borrows without a plural


def en_plural(phrase: str, n: int, singular: bool = False) -> str:
    """``phrase`` with its last word made to agree with ``n`` ("bracelet" -> "bracelets"; a name already
    plural, "turquoise earrings", stays). With ``singular`` a plural word is made singular for one
    ("jars" -> "jar"), for counters; product names keep their own number."""
    if not phrase:
        return phrase
    head, _, word = phrase.rpartition(" ")
    if word in _INVARIANT:  # "two jin", not "two jins"
        return phrase
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


def _agree(template: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Counts and product names that agree: "ten more jars of honey", "three bracelets", "add five honeys"."""
    amount, product = fields.get("quantity"), fields.get("product")
    if isinstance(amount, Amount) and product and "{quantity} more {product}" in template and amount.n != int(amount.n):
        template = template.replace("{quantity} more {product}", "{_items}")  # another half a jin of walnuts
        fields = {**fields, "_items": f"another {amount} of {product}"}
    if isinstance(amount, Amount) and product and "{quantity} more {product}" in template:
        unit = en_plural(amount.unit, amount.n, singular=True) if amount.unit else ""
        more = f"{en_int(amount.n)} more " + (f"{unit} of {product}" if unit else en_plural(product, amount.n))
        template = template.replace("{quantity} more {product}", "{_items}")
        fields = {**fields, "_items": more}
    if isinstance(amount, Amount) and product and "{quantity} {product}" in template:
        items = f"{amount} of {product}" if amount.unit else f"{amount} {en_plural(product, amount.n)}"
        template = template.replace("{quantity} {product}", "{_items}")
        fields = {**fields, "_items": items}
    if product and "five {product}" in template:  # an example count: "add five honeys"
        template = template.replace("five {product}", "five {_plural}")
        fields = {**fields, "_plural": en_plural(str(product), 5)}
    return template, fields


class English(Language):
    capitalize_sentences = True
    symbols = {"%": " percent", "+": " plus "}

    def warm(self) -> None:
        _inflect()  # seconds under load: not on the database thread in the middle of a turn

    def find_numbers(self, text: str) -> list[Number]:
        return find_en(text, self.pack)

    @property
    def numeral_words(self) -> frozenset[str]:
        return frozenset(_EN_NUMWORDS)

    @property
    def number_words(self) -> frozenset[str]:
        return frozenset(_EN_NUMWORDS | {"a", "an", "dozen", "couple"})

    def name_form(self, text: str) -> str:
        return text.lower()

    def match_form(self, word: str) -> str:
        return en_singular(word)

    def loose_form(self, word: str) -> str:
        return word[:-1] if len(word) > 3 and word.endswith("s") else word

    def unit_form(self, unit: str) -> str:
        # the pack lists both forms (jar, jars; box, boxes): no need to load inflect inside a reading
        for singular in (unit[:-1] if unit.endswith("s") else "", unit[:-2] if unit.endswith("es") else ""):
            if singular and singular in self.pack.count_units:
                return singular
        return unit

    def number(self, n: int) -> str:
        return en_int(n)

    def quantity(self, n: int | float | Decimal, unit: str) -> str:
        """ "three jars"; goods by weight: "half a jin", "one and a half jin", "two point two five jin"."""
        whole, digits = split_amount(n)
        if not digits:
            return Amount(en_int(whole) + (f" {en_plural(unit, whole, singular=True)}" if unit else ""), whole,
                          unit or "")  # fmt: skip
        one = en_plural(unit, 1, singular=True) if unit else ""
        many = en_plural(unit, 2, singular=True) if unit else ""
        if digits == "5":
            return Amount((f"half a {one}" if one else "a half") if not whole
                          else f"{en_int(whole)} and a half {many}".strip(), float(n), unit or "")  # fmt: skip
        said = f"{en_int(whole)} point {' '.join(en_int(int(d)) for d in digits)} {many}"
        return Amount(said.strip(), float(n), unit or "")


    def counted(self, n: int, noun: str) -> str:
        return en_count(n, noun)

    def price(self, value: float | Decimal, currency: str) -> str:
        return en_price(value, currency, self.pack.replies["currency"].get(currency, currency.lower()))

    def digits(self, digits: str) -> list[str]:
        return [en_int(int(d)) for d in digits]

    def render(self, template: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return _agree(template, fields)


LANGUAGE = English
