"""What a language module provides: the rules that are code, not data (the data is in its pack).

A language is ``voicebot/lang/packs/<code>.yaml`` plus at most one ``voicebot/lang/<code>.py`` that
defines ``LANGUAGE``, an instance of a ``Language`` subclass. Without a module the generic
``Language`` below is used: digits are numbers, numbers are said as digits, words are joined by spaces.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from voicebot.lang.packs import Pack, load_pack


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
    """An int when the value is whole, else a float without arithmetic noise (1.1100000000000001 -> 1.11;
    0.001 stays 0.001 so the shop's money parser can refuse it instead of a price of 0)."""
    value = round(float(value), 6)
    return int(value) if value == int(value) else value


def split_amount(n: int | float | Decimal) -> tuple[int, str]:
    """A quantity as (whole part, decimal digits): 1.5 -> (1, "5"), 0.25 -> (0, "25"), 3 -> (3, "")."""
    d = Decimal(repr(n)) if isinstance(n, float) else Decimal(str(n))
    whole = int(d)
    digits = format(d - whole, "f").partition(".")[2].rstrip("0")
    return whole, digits


def fen(value: float | Decimal) -> int:
    """A price in hundredths (fen, cents), rounded half up."""
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rejected_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where words that contain numerals but are not quantities ("十分", "no one") are in ``text``."""
    spans = []
    for w in words:
        for m in re.finditer(re.escape(w), text):
            spans.append((m.start(), m.end()))
    return spans


def unit_at(text: str, pos: int, units: tuple[str, ...]) -> str | None:
    """The longest of ``units`` that starts at ``pos``."""
    for u in sorted(units, key=len, reverse=True):
        if text.startswith(u, pos):
            return u
    return None


def strip_ends(text: str, ends: Iterable[str]) -> str:
    """``text`` without any of ``ends`` at its end, again and again, the first listed first (吧, "'s shop");
    never down to nothing."""
    ends = tuple(ends)
    changed = True
    while changed and text:
        changed = False
        for e in ends:
            if text.endswith(e) and len(text) > len(e):
                text, changed = text[: -len(e)].rstrip(), True
                break
    return text


_DIGITS = re.compile(r"\d+(?:\.\d+)?")


class Language:
    """The generic language: override what differs. Every method gets normalised or reply text."""

    #: spoken sentences are joined with this ("" for Chinese)
    sentence_sep = " "
    #: a bare list ends with this ("。" for Chinese)
    full_stop = "."
    #: product names are compared by pinyin as well (homophones in Mandarin)
    pinyin_matching = False
    #: a "name" longer than this (characters) is mis-heard or hostile: never read back as a product
    max_name_chars = 40
    #: words are written apart and matched as whole words (Chinese and Korean: matched without spaces)
    spaced = True
    #: what joins normalised clauses into one normalised text
    word_sep = " "
    #: a sentence starts with a capital letter
    capitalize_sentences = False
    #: how a reply's symbols are said ("%" -> " percent"); an unlisted symbol becomes a space
    symbols: dict[str, str] = {}  # noqa: RUF012 - read only
    #: a bare number of ten or more straight after "one <counter>" is that one's price (一只一百二)
    bare_price_after_one = False
    #: a number after the product, with no currency, names its price ("sold the necklace for two hundred")
    price_after_product = True

    def __init__(self, code: str) -> None:
        self.code = code

    def warm(self) -> None:
        """Load now what the first reply would otherwise wait for (called once at service start)."""

    def word_count(self, word: str) -> int:
        """How common ``word`` is as a word of its own (0: unknown); guards reading by sound."""
        return 0

    @functools.cached_property
    def pack(self) -> Pack:
        return load_pack(self.code)

    # --- reading ---------------------------------------------------------------------------------

    def prepare(self, text: str) -> str:
        """Script-level clean-up before punctuation is dropped (lower-cased NFKC text in, same out)."""
        return text

    def spacing(self, text: str) -> str:
        """The last step of normalising: spaces as rules match them, and the pack's ``rewrites`` (gimme ->
        give me) as whole words."""
        text = re.sub(r"\s+", " ", text).strip()
        rewrites = self.pack.rewrites
        if rewrites:
            text = self._rewrites.sub(lambda m: rewrites[m.group()], text)
            text = re.sub(r"\s+", " ", text).strip()  # a filler rewritten to nothing leaves a gap
        return text

    @functools.cached_property
    def _rewrites(self) -> re.Pattern[str]:
        alts = "|".join(re.escape(w) for w in sorted(self.pack.rewrites, key=len, reverse=True))
        return re.compile(rf"(?<![\w'])(?:{alts})(?![\w'])")

    def remove_words(self, text: str, words: list[str]) -> str:
        """``text`` without ``words`` (whole words where words are spaced)."""
        alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.sub(rf"\b(?:{alts})\b", " ", text)

    def name_chunk(self, chunk: str) -> str:
        """A piece of a new product's name without the pack's stop words ("the", "of")."""
        return " ".join(w for w in chunk.split() if w not in self.pack.stopwords)

    def grammar_name(self, name: str) -> str:
        """A catalog name as the recogniser's grammar says it (English lower-case)."""
        return name.lower()

    def said_back_with(self, tail: str, product: str) -> str:
        """A second command that ends in an amount, said back with the product the first one named
        (Chinese: 下午又卖了两斤 -> 下午又卖了两斤核桃); unchanged where the word order does not allow it."""
        return tail

    def find_numbers(self, text: str) -> list[Number]:
        """All quantities in normalised ``text``, in order (generic: digit runs, no unit)."""
        return [Number(tidy(float(m.group())), m.start(), m.end(), m.group()) for m in _DIGITS.finditer(text)]

    @property
    def numeral_words(self) -> frozenset[str]:
        """Words that are numerals ("seven" in "seven grain bread")."""
        return frozenset()

    @property
    def number_words(self) -> frozenset[str]:
        """Words that say a number (a name made of one of them is not a customer's name)."""
        return frozenset()

    def name_form(self, text: str) -> str:
        """A new name as it is stored (Chinese without spaces, English lower-case)."""
        return text

    def customer_name(self, name: str, span: tuple[int, int], norm: str, words: list[str]) -> tuple[str, tuple[int, int]] | None:
        """A customer's name as a pack pattern took it (at ``span`` of ``norm``), trimmed to the name, or None
        when it is not one. ``words``: the utterance's words as the recogniser split them."""
        return name, span

    def name_before_number(self, name: str, span: tuple[int, int], norm: str) -> tuple[str, tuple[int, int], bool]:
        """A customer's name that runs into the number after it (at ``span`` of ``norm``), as (name, span,
        unsure): the name gives back numerals that belong to the number; ``unsure`` when both readings fit."""
        return name, span, False

    def lone_char(self, text: str, norm: str, products: list[str]) -> tuple[str, int, list[str]] | None:
        """A one-character word that names products (油 卖了两桶) as (the character, where it is in ``norm``,
        the products it heads or ends), or None; ``text`` is the utterance as the recogniser split it."""
        return None

    def numeral_name_spans(self, norm: str, products: list[str]) -> list[tuple[int, int]]:
        """Where ``norm`` names a catalog product with a numeral in it (seven grain bread): those numerals
        belong to the name, not to an amount."""
        spans: list[tuple[int, int]] = []
        numerals = self.numeral_words
        for p in products:
            key = " ".join(re.findall(r"[a-z0-9']+", p.lower()))
            if not key or not any(w in numerals or w.isdigit() for w in key.split()):
                continue
            for m in re.finditer(rf"(?<![\w']){re.escape(key)}(?:s|es)?(?![\w'])", norm):
                if not any(m.start() < b and a < m.end() for a, b in spans):
                    spans.append(m.span())
        return spans

    def numeral_in_name(self, norm: str, n: Number) -> bool:
        """A bare numeral ``n`` (neither price nor stock) that is part of a new product's name: the word after
        it is a name word (add product seven grain cookies)."""
        if n.unit or n.kind or n.end >= len(norm):
            return False
        pack = self.pack
        nxt = re.match(r"\s+([a-z']+)", norm[n.end :])
        word = nxt.group(1) if nxt else ""
        return bool(word) and not (
            word in pack.stopwords or word in pack.units or (pack.strip is not None and pack.strip.fullmatch(word))
            or word in self.number_words or (pack.price_cues is not None and pack.price_cues.fullmatch(word))
            or (pack.quantity_cues is not None and pack.quantity_cues.fullmatch(word))
        )  # fmt: skip

    # --- the words of an answer ------------------------------------------------------------------

    def has_word(self, norm: str, word: str) -> bool:
        """``word`` is said in normalised ``norm`` (a whole word where words are spaced)."""
        return word in norm.split()

    def mentions(self, said: str, word: str) -> bool:
        """``word`` is in lower-case ``said`` (not inside a longer word where words are spaced: "new", not "renew")."""
        return re.search(rf"\b{re.escape(word)}\b", said) is not None

    def unspaced(self, text: str) -> str:
        """Raw text lower-cased as the pack's patterns on it expect (cjk: without the recogniser's spaces)."""
        return text.lower()

    def word_set(self, text: str) -> set[str]:
        """The pieces of ``text`` that tell one name from another ("silver" of "silver bracelet")."""
        return set(text.lower().split())

    def compact(self, norm: str) -> str:
        """Normalised text with the gaps left by removed words closed, the way rules match it."""
        return " ".join(norm.split())

    def name_words(self, norm: str, taken: list[tuple[int, int]]) -> list[str]:
        """The words of ``norm`` outside the ``taken`` spans that may be a name (no stop words)."""
        pack = self.pack
        skip = pack.stopwords | pack.name_stopwords | set(pack.raw.get("particles") or [])
        return [w for w in _free(norm, taken) if w not in skip]

    def name_of(self, words: list[str]) -> str:
        """The name the left-over ``words`` make ("turquoise necklace"; 核桃 of 核桃 and 好)."""
        return " ".join(words)

    def is_name(self, name: str, said: str) -> bool:
        """``name``, taken from the correction ``said`` ("no, to mary"), is a person's name: no stop word,
        unit or number."""
        pack = self.pack
        return name not in pack.stopwords | pack.name_stopwords | set(pack.units) and not self.find_numbers(name)

    def match_form(self, word: str) -> str:
        """One lower-case word as product names are compared (English: its singular, "jars" -> "jar")."""
        return word

    def loose_form(self, word: str) -> str:
        """One lower-case word as a second, looser comparison of names takes it (English: without a final
        "s", for kiwis / kiwi where :meth:`match_form` keeps words ending in -is)."""
        return word

    def unit_form(self, unit: str) -> str:
        """A counter word as the catalog keeps it (English: singular, "jars" -> "jar")."""
        return unit

    # --- speaking --------------------------------------------------------------------------------

    def number(self, n: int) -> str:
        """A bare count ("还有三样", "three more")."""
        return str(int(n))

    def count(self, n: int) -> str:
        """A number said before a measure word: 两 (条), two, 두 (개)."""
        return self.number(n)

    def ordinal(self, n: int) -> str:
        """An order's number as said before 号 / after "order"."""
        return self.number(n)

    def counted(self, n: int, noun: str) -> str:
        """A number with a noun that agrees with it where the language inflects ("three orders")."""
        return self.number(n)

    def quantity(self, n: int | float | Decimal, unit: str) -> str:
        """A count with its measure word: 十条 / ten jars / 두 개 (a fraction of a weight: 1.5 근)."""
        whole, digits = split_amount(n)
        if digits:
            return f"{whole}.{digits} {unit}".strip()
        return f"{self.count(whole)} {unit}".strip()

    def price(self, value: float | Decimal, currency: str) -> str:
        """A price as people say it."""
        whole, cents = divmod(fen(value), 100)
        word = self.pack.replies.get("currency", {}).get(currency, currency)
        return f"{whole}.{cents:02d} {word}" if cents else f"{whole} {word}"

    def digits(self, digits: str) -> list[str]:
        """Each digit of a code as a word."""
        return list(digits)

    def speak_number(self, digits: str, after: str) -> str:
        """A number written in a reply (``after`` is the character that follows it) as words."""
        whole, _, frac = digits.partition(".")
        head = self.number(int(whole))
        return head + (" point " + " ".join(self.digits(frac)) if frac else "")

    def prepare_speech(self, text: str) -> str:
        """A reply before its symbols and numbers are said (zh: 30% -> 百分之30)."""
        return text

    def speakable(self, text: str) -> str:
        """Script-level changes for the synthesiser once numbers are words (spell Latin letters ...)."""
        return text

    def render(self, template: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Grammar a template needs beyond filling in fields (English plurals); generic: none."""
        return template, fields

    def sentence(self, text: str) -> str:
        """A reply as a sentence (capitalised where the language does)."""
        return text[:1].upper() + text[1:] if self.capitalize_sentences else text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"


class CjkLanguage(Language):
    """A language written without spaces (Chinese, Korean): a name pattern may take a character too many."""

    max_name_chars = 20
    spaced = False
    word_sep = ""
    bare_price_after_one = True
    price_after_product = False

    def spacing(self, text: str) -> str:
        """Without spaces (Vosk zh/ko output is split), the pack's ``rewrites`` (啥 -> 什么) anywhere."""
        text = re.sub(r"\s+", "", text)
        for old, new in self.pack.rewrites.items():
            text = text.replace(old, new)
        return text

    def remove_words(self, text: str, words: list[str]) -> str:
        alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.sub(f"(?:{alts})", "", text)

    def name_chunk(self, chunk: str) -> str:
        return chunk

    def grammar_name(self, name: str) -> str:
        return name

    def said_back_with(self, tail: str, product: str) -> str:
        return tail + product

    def has_word(self, norm: str, word: str) -> bool:
        return word in norm

    def mentions(self, said: str, word: str) -> bool:
        return word in said

    def unspaced(self, text: str) -> str:
        return text.lower().replace(" ", "")

    def word_set(self, text: str) -> set[str]:
        """The characters of ``text``, without the pack's ``pick_fillers`` (的, 个: in every answer)."""
        return set(text.replace(" ", "")) - set(self.pack.raw.get("pick_fillers") or "")

    def compact(self, norm: str) -> str:
        return norm.replace(" ", "")

    def name_words(self, norm: str, taken: list[tuple[int, int]]) -> list[str]:
        """As :meth:`Language.name_words`, with a unit at either end taken too and the pack's ``name_edges``
        (还有, 的, 吗 …) stripped from each word; a name has two characters at least."""
        pack = self.pack
        units = "|".join(re.escape(u) for u in sorted(pack.units, key=len, reverse=True) if u)
        if units:
            taken = taken + [m.span() for m in re.finditer(rf"^(?:{units})|(?:{units})$", norm)]
        skip = pack.stopwords | pack.name_stopwords | set(pack.raw.get("particles") or [])
        edges = str(pack.raw.get("name_edges") or "")
        words = [w.strip(edges) if edges else w for w in _free(norm, taken)]
        return [w for w in words if len(w) >= 2 and w not in skip]

    def name_of(self, words: list[str]) -> str:
        return max(words, key=len)

    def is_name(self, name: str, said: str) -> bool:
        """A surname first (不对，是李四), and ``said`` not ending in a unit (是三瓶)."""
        pack = self.pack
        return name[0] in pack.surnames and name not in pack.name_stopwords and not any(
            said.endswith(u) for u in pack.units
        )

    def customer_name(self, name: str, span: tuple[int, int], norm: str, words: list[str]) -> tuple[str, tuple[int, int]] | None:
        pack = self.pack
        # 卖给李姐了: the name pattern also took the sentence-final particle
        while len(name) > 2 and name[-1] in pack.name_trailing and span[1] == len(norm):
            name, span = name[:-1], (span[0], span[1] - 1)
        honorifics = pack.raw.get("honorifics") or ()
        # 钱大姐, 单老师: a surname that is also a common word, before a form of address, is a name.
        titled = name[0] in pack.surnames and name[1:] in honorifics
        # 老钱, 小何: 老/小 before a surname is a name, even a surname that is also a common word
        titled = titled or (name[0] in str(pack.raw.get("name_prefixes") or "") and name[1] in pack.surnames)
        bad, numerals = pack.not_in_names, pack.numeral_chars
        if not titled and (any(ch in bad for ch in name) or name[0] in numerals):
            # 3 chars with one bad leading char: keep the last two (天张三 -> 张三 handled below)
            ok_tail = not any(c in bad for c in name[1:]) and name[1] not in numerals
            if len(name) == 3 and (name[0] in bad or name[0] in numerals) and ok_tail:
                name, span = name[1:], (span[0] + 1, span[1])
            else:
                return None
        if len(name) == 3 and name[1] in pack.surnames and name[2:] in honorifics:
            name, span = name[1:], (span[0] + 1, span[1])  # 电费王姐拿了: 王姐, not 费王姐
        if len(name) == 3 and name[0] not in pack.surnames and name[1] in pack.surnames:
            name, span = name[1:], (span[0] + 1, span[1])
        # Names the recogniser split into words (陈 老师, 王 大姐) are still one name.
        runs = {"".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, min(len(words), i + 3) + 1)}
        if name not in words and name not in runs:
            for t in set(words):
                if len(t) >= 2 and t in name:
                    name, span = t, (span[0] + name.index(t), span[0] + name.index(t) + len(t))
                    break
        if span[0] > 0 and norm[span[0] - 1] in numerals and any(name.startswith(w) for w in pack.count_units):
            return None  # 米酒卖了一瓶半: 瓶半 is the rest of an amount, not a name
        return name, span

    def name_before_number(self, name: str, span: tuple[int, int], norm: str) -> tuple[str, tuple[int, int], bool]:
        """卖给老王二十斤: a name that took the first numerals of the number after it gives them back, so the
        number is complete (老王, 二十斤). Sure only when what is left is a whole form of address (老王, 赵姐);
        when the longer name is as likely (王老五十斤, 张三十二瓶, 王二十斤) ``unsure``: read back first."""
        pack = self.pack
        split = pack.raw.get("not_one_number")  # 四三 / 三两: digits side by side are not one number here

        def one_number(k: int) -> bool:  # the name's numerals from k on and what follows read as one number
            found = self.find_numbers(norm[span[0] + k :])
            return bool(found) and found[0].start == 0 and found[0].end > len(name) - k and not (
                split and re.search(split, found[0].text)
            )

        cut = len(name)
        while cut > 0 and name[cut - 1] in pack.numeral_chars:
            cut -= 1
        keep = next((k for k in range(len(name) - 1, max(cut, 2) - 1, -1) if one_number(k)), None)
        if keep is None:
            # 王二十斤: 王二 and 十斤, or 王 and 二十斤
            return name, span, cut < len(name) and cut < 2 and one_number(cut)
        rest = name[:keep]
        honorifics = pack.raw.get("honorifics") or ()
        whole = len(rest) == 2 and (
            (rest[0] in str(pack.raw.get("name_prefixes") or "") and rest[1] in pack.surnames)
            or (rest[0] in pack.surnames and rest[1] in honorifics)
        ) or (rest[0] in pack.surnames and rest[1:] in honorifics)
        return rest, (span[0], span[0] + keep), not whole

    def lone_char(self, text: str, norm: str, products: list[str]) -> tuple[str, int, list[str]] | None:
        """油 卖了两桶: a one-character word the recogniser set apart (or, unspaced, a first character straight
        before the pack's ``lone_char_cues``: 油多少钱一桶) that heads or ends products."""
        pack = self.pack
        tokens = text.split()
        if len(tokens) < 2:
            if len(norm) < 3 or not pack.lone_char_cues or not norm[1:].startswith(pack.lone_char_cues):
                return None
            tokens = [norm[0]]
        units = set(pack.count_units) | set(pack.money_units)
        for tok in tokens:
            if len(tok) != 1 or not "\u4e00" <= tok <= "\u9fa5":
                continue
            if tok in pack.not_in_names or tok in pack.numeral_chars or tok in units:
                continue
            hits = [p for p in products if p.startswith(tok) or p.endswith(tok)]
            at = norm.find(tok)
            if hits and at >= 0:
                return tok, at, hits
        return None

    def numeral_name_spans(self, norm: str, products: list[str]) -> list[tuple[int, int]]:
        """As :meth:`Language.numeral_name_spans`; a mention may be part of the name (五香 for 五香粉, 千层底 for
        千层底布鞋) as long as it holds more than numerals and units (三七粉, 八角)."""
        pack = self.pack
        spans: list[tuple[int, int]] = []
        singles = {u for u in pack.units if len(u) == 1}
        pieces: set[str] = set()
        for p in products:
            key = re.sub(r"\s+", "", p.lower())
            if not any(ch in pack.numeral_chars for ch in key):
                continue
            pieces.add(key)
            for i in range(len(key)):
                for j in range(i + 2, len(key) + 1):
                    sub = key[i:j]
                    if any(ch in pack.numeral_chars for ch in sub) and any(
                        ch not in pack.numeral_chars and ch not in singles for ch in sub
                    ):
                        pieces.add(sub)
        for sub in sorted(pieces, key=len, reverse=True):
            for m in re.finditer(re.escape(sub), norm):
                if not any(m.start() < b and a < m.end() for a, b in spans):
                    spans.append(m.span())
        return spans

    def numeral_in_name(self, norm: str, n: Number) -> bool:
        """A lone numeral between two other characters (腊八蒜), or one glued to the character after it (十三香,
        五香粉): part of a new name."""
        pack = self.pack
        if _hanzi_between(norm, n, pack):
            return True
        if n.unit or n.kind or n.end >= len(norm):
            return False
        after = norm[n.end]
        return "\u4e00" <= after <= "\u9fa5" and after not in pack.numeral_chars and after not in pack.not_in_names and not any(
            norm.startswith(u, n.end) for u in pack.units
        )


def _hanzi_between(norm: str, n: Number, pack: Pack) -> bool:
    """``n`` is one numeral character between two other Chinese characters (腊八蒜)."""
    if n.unit or n.kind or len(n.text) != 1 or n.start == 0 or n.end >= len(norm):
        return False
    before, after = norm[n.start - 1], norm[n.end]
    return all("\u4e00" <= c <= "\u9fa5" and c not in pack.numeral_chars for c in (before, after))


def _free(norm: str, taken: list[tuple[int, int]]) -> list[str]:
    """The words of ``norm`` once the ``taken`` spans are blanked out."""
    blank = [False] * len(norm)
    for a, b in taken:
        for i in range(a, min(b, len(norm))):
            blank[i] = True
    return "".join(" " if t else ch for ch, t in zip(norm, blank, strict=True)).split()
