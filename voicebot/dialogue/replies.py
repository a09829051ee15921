"""Spoken replies: the templates in each language pack (packs/<lang>.yaml, ``replies:``) and numbers said aloud.

Prices are said the way people say them ("两百块", "两块五", "two hundred yuan", "이백 원");
quantities carry their measure word ("两条", "十个"). Numbers are words, not digits, so the TTS
voice never has to guess how to read them. How a language says them is its module
(``voicebot/lang/<code>.py``); this module is the language-neutral entry point.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from typing import Any

from voicebot.config import ShopConfig
from voicebot.lang import Language, language
from voicebot.lang.packs import available_languages, load_pack
from voicebot.logs import log_event
from voicebot.shop.quantity import tidy as tidy_quantity


def _known(lang: str) -> str:
    """``lang``, or the default shop language when it has no pack."""

    return lang if lang in available_languages() else ShopConfig().language


def load_replies(lang: str) -> dict[str, Any]:
    """The reply templates of ``lang``'s pack (the default language's for a language without a pack)."""
    return load_pack(_known(lang)).replies


def _language(lang: str) -> Language:
    return language(_known(lang))


STRICT_ENV = "VOICEBOT_STRICT_REPLIES"  # "1": a template field the caller did not pass raises (tests set it)
# Clauses a caller passes only when they apply ("卖了两条手链{to_customer}"); absent, they are said as "".
OPTIONAL_FIELDS = frozenset({"to_customer"})


class MissingField(KeyError):
    """A reply template names a field its caller did not pass (a misspelt keyword loses words)."""


class _Fields(dict):
    """The caller's fields; a missing one raises when strict, else is logged as an error and said as ""."""

    def __init__(self, fields: dict[str, Any], lang: str, key: str) -> None:
        super().__init__(fields)
        self.where = (lang, key)

    def __missing__(self, field: str) -> str:
        if field in OPTIONAL_FIELDS:
            return ""
        lang, key = self.where
        if os.environ.get(STRICT_ENV) == "1":
            raise MissingField(f"reply {lang}:{key} needs field {field!r}; passed {sorted(self)}")
        log_event("replies.missing_field", logging.ERROR, lang=lang, key=key, field=field, passed=sorted(self))
        return ""


def say(lang: str, key: str, **fields: Any) -> str:
    """Render template ``key`` (dotted for nested: ``done.add_product``) with ``fields``.

    A field the template names but the caller did not pass is an error (see :class:`_Fields`).
    """
    node: Any = load_replies(lang)
    for part in key.split("."):
        node = node[part]
    template = str(node)
    template, fields = _language(lang).render(template, fields)
    return template.format_map(_Fields(fields, lang, key))


def capitalized(lang: str, text: str) -> str:
    """An English sentence starts with a capital ("a customer ..." -> "A customer ...")."""
    return _language(lang).sentence(text)


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
    return _language(lang).sentence_sep.join(p for p in parts if p)


def default_unit(lang: str) -> str:
    return load_replies(lang).get("default_unit") or ""


def price(lang: str, value: float | Decimal | None, currency: str = "CNY") -> str:
    """A price as people say it in ``lang``."""
    if value is None:
        return ""
    return _language(lang).price(value, currency)


def quantity(lang: str, n: int | float | None, unit: str | None = None) -> str:
    """A count with its measure word: 十条 / ten / 두 개."""
    if n is None:
        return ""
    return _language(lang).quantity(tidy_quantity(n), unit if unit else default_unit(lang))


def count(lang: str, n: int) -> str:
    """A number said before a measure word: 两 (条), two, 두 (개)."""
    return _language(lang).count(n)


def ordinal(lang: str, n: int) -> str:
    """An order's number as said before 号 / after "order": 三 (not 两), three, 삼."""
    return _language(lang).ordinal(n)


def number(lang: str, n: int) -> str:
    """A bare count ("还有三样", "three more")."""
    return _language(lang).number(n)


def counted(lang: str, n: int, noun: str) -> str:
    """A number and a noun that agrees with it where the language inflects ("three orders"; else 三)."""
    return _language(lang).counted(n, noun)


def full_stop(lang: str) -> str:
    """Sentence end for a bare list ("。" / ".")."""
    return _language(lang).full_stop
