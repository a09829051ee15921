"""Spoken numbers: find them in a transcript, with their unit and whether they are approximate.

How a language reads its numbers is its module's ``find_numbers`` (``voicebot/lang/<code>.py``); a
language without a module reads digits only.
"""

from __future__ import annotations

from typing import NamedTuple

from voicebot.lang import Number, language, tidy
from voicebot.nlu.normalize import normalize

__all__ = ["Number", "SpokenNumber", "find_numbers", "parse_number", "pick_number", "tidy"]


def find_numbers(text: str, lang: str) -> list[Number]:
    """All quantities in ``text`` (already normalised: cjk without spaces, latin lower-case), in order."""
    return language(lang).find_numbers(text)


class SpokenNumber(NamedTuple):
    value: int | float
    approximate: bool


def parse_number(text: str, lang: str, money: bool = False) -> SpokenNumber | None:
    """The number in a short answer ("两块五", "十来个", "a dozen") as (value, approximate), or None.

    With ``money`` a number said with a currency unit is preferred, else one said with a counter.
    """
    return pick_number(find_numbers(normalize(text, lang), lang), money)


def pick_number(found: list[Number], money: bool = False) -> SpokenNumber | None:
    """Of the numbers found in a short answer, the one :func:`parse_number` takes."""
    if not found:
        return None
    wanted = "money" if money else "count"
    best = next((n for n in found if n.kind == wanted), found[0])
    if money and best.kind == "count":
        return None  # "八十斤" does not answer "多少钱？"
    return SpokenNumber(best.value, best.approximate)
