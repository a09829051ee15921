"""Two commands in one sentence (我要两斤腊肉，再要一瓶米酒; 卖了两瓶蜂蜜，核桃改成三十五一斤): where the first
ends, so that only the first is read (never a mix of the two) and the second is said back to be said again,
instead of dropped without a word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from voicebot.intents import SPECS, Intent
from voicebot.lang import language
from voicebot.lang.packs import IntentRule, load_pack
from voicebot.nlu.normalize import _CLAUSE, clauses, normalize
from voicebot.nlu.numbers import find_numbers


def split_commands(
    text: str,
    lang: str,
    role: str,
    products: list[str],
    read: Callable[[str], Intent],
    amount_of: Callable[[str, list[str]], bool],
) -> tuple[str, str] | None:
    """(the first command's words, the second's as said) when ``text`` says a whole shop change and then
    another (a command word of one, or an amount of another product she sells); None when it says one
    (上架桃木梳，二百五，十二把), or corrects itself (卖了三斤核桃，不对，是两斤)."""
    text = unicodedata.normalize("NFKC", text)
    pack = load_pack(lang)
    joins = pack.raw.get("command_joins")  # words that join two commands without a pause (…honey and three jin…)
    pauses = {m.start(): m.end() for m in _CLAUSE.finditer(text)}
    joined = {m.start(): m.end() for m in re.finditer(joins, text, re.IGNORECASE)} if joins else {}
    kept = pack.raw.get("said_back_joins")  # joins said back with the second command; without it none are
    cues = [r for r in pack.rules if role in r.roles]
    denies = [r for r in pack.rules if r.intent == "deny"]
    for at in sorted(pauses | joined):
        start = pauses.get(at) or (at if kept and re.match(kept, text[at:], re.IGNORECASE) else joined[at])
        head, tail = text[:at], _CLAUSE.sub(" ", text[start:]).strip()  # 再要一瓶米酒 keeps her 再
        if joins and not kept:  # "and also five jin of walnuts": said back without the joins
            tail = re.sub(rf"^(?:(?:{joins})\s*)+", "", tail, flags=re.IGNORECASE)
        norm = normalize(tail, lang)
        if not normalize(head, lang) or not norm:
            continue
        a = read(head)
        if not _whole_change(a):
            continue
        later = [normalize(c, lang) for c in clauses(text[at:], lang)]
        fix = pack.raw.get("correction_head")  # a later clause that corrects the first (no, actually …)
        if any(r.matches(c) for c in later for r in denies) or (fix and any(re.match(fix, c) for c in later)):
            return None  # a correction: the sentence as a whole, as before
        b = read(tail)
        if b.product in (None, a.product) and not _same(read(text), a):
            return None  # 核桃进了五十斤，现在有一百五十斤: the later words say what the whole sentence means
        said = _cued_change(b, norm, cues)
        others = [p for p in products if p and p != a.product]
        if said or (others and amount_of(norm, others)):
            return head, _with_product(tail, norm, b, a.product, lang)
    return None


def _same(one: Intent, other: Intent) -> bool:
    def key(it: Intent) -> tuple[object, ...]:
        return it.name, it.product, it.quantity, it.price

    return key(one) == key(other)


def _whole_change(it: Intent) -> bool:
    """A shop change with everything it needs (卖了两斤腊肉), not a piece of one (卖了银手镯)."""
    spec = it.spec
    if not spec.changes_shop or not spec.required:
        return False
    if spec.needs_product and not it.product_known:
        return False
    return all(getattr(it, s, None) not in (None, "") for s in spec.required)


def _cued_change(it: Intent, norm: str, cues: list[IntentRule]) -> bool:
    """The words say a shop change by its own command words (下午又卖了两斤, 核桃改成三十五一斤)."""
    if not it.spec.changes_shop or not (it.product or it.quantity is not None or it.price is not None):
        return False
    return any(r.matches(norm) for r in cues if _changes(r.intent))


def _changes(name: str) -> bool:
    found = [s for s in SPECS if s.name == name]
    return bool(found) and (found[0].changes_shop or bool(found[0].for_seller))


def _with_product(tail: str, norm: str, said: Intent, first: str | None, lang: str) -> str:
    """下午又卖了两斤 after 三斤核桃 means 核桃: said back as 下午又卖了两斤核桃, so saying it again is enough."""
    if said.product or said.candidates or not first:
        return tail
    found = find_numbers(norm, lang)
    return language(lang).said_back_with(tail, first) if found and found[-1].end == len(norm) else tail
