"""A second command said after the first in one sentence (我要两斤腊肉，再要一瓶米酒): its words, so the
dialogue says it was heard and must be said again instead of dropping it without a word."""

from __future__ import annotations

import re
import unicodedata

from voicebot.nlu.intents import _names_an_amount, understand
from voicebot.nlu.normalize import _CLAUSE, normalize
from voicebot.nlu.numbers import find_numbers
from voicebot.nlu.packs import load_pack

_COUNTED = ("record_sale", "place_order", "add_stock")
# Words that join two commands without a pause (two jars of honey and three jin of walnuts).
_JOINS = {"zh": r"还有|再|和|又|另外", "en": r"\b(?:and|then|also|plus)\b", "ko": r"그리고|또"}


def second_command(text: str, lang: str, role: str, products: list[str]) -> str | None:
    """The words after the first command that say a second one (a command word and an amount, or an amount
    of another product she sells), when what comes before them alone reads as the whole sentence does;
    None when there is no second command (上架桃木梳，二百五，十二把 is one)."""
    text = unicodedata.normalize("NFKC", text)
    first = understand(text, lang, role, products)
    if first.name not in _COUNTED or first.quantity is None:
        return None
    pack = load_pack(lang)
    cues = [r for r in pack.rules if role in r.roles and r.intent in _COUNTED]
    others = [p for p in products if p and p != first.product]
    joins = _JOINS.get(lang)
    pauses = {m.start(): m.end() for m in _CLAUSE.finditer(text)}  # her words after a pause, as said
    joined = {m.start(): m.end() for m in re.finditer(joins, text, re.IGNORECASE)} if joins else {}
    for at in sorted(pauses | joined):
        head, tail = text[:at], _CLAUSE.sub(" ", text[pauses.get(at) or joined[at] :]).strip()
        if joins and pack.script != "cjk":  # "and also five jin of walnuts": said back without the joins
            tail = re.sub(rf"^(?:(?:{joins})\s*)+", "", tail, flags=re.IGNORECASE)
        if not normalize(head, lang) or not normalize(tail, lang):
            continue
        a = understand(head, lang, role, products)
        if (a.name, a.product, a.quantity) != (first.name, first.product, first.quantity):
            continue
        norm = normalize(tail, lang)
        b = understand(tail, lang, role, products)
        said = b.name in _COUNTED and b.quantity is not None and any(r.matches(norm) for r in cues)
        if said or (others and _names_an_amount(norm, others, lang)):
            return _with_product(tail, norm, b.product or (b.candidates and "?"), first.product, lang)
    return None


def _with_product(tail: str, norm: str, named: str | None, first: str | None, lang: str) -> str:
    """下午又卖了两斤 after 三斤核桃 means 核桃: said back as 下午又卖了两斤核桃, so saying it again is enough."""
    if named or not first or load_pack(lang).script != "cjk":
        return tail
    found = find_numbers(norm, lang)
    return tail + first if found and found[-1].end == len(norm) else tail
