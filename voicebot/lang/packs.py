"""Language packs: everything language-specific the NLU, replies, TTS and ASR grammar need, as data.

One YAML file per language in ``voicebot/lang/packs/<lang>.yaml``; adding a language means adding a file.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from voicebot.intents import SPECS

PACK_DIR = Path(__file__).with_name("packs")
ROLES = ("seller", "buyer")


class PackError(ValueError):
    """A pack is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class IntentRule:
    """One way of recognising an intent: regex patterns (searched) and/or whole-utterance word lists."""

    intent: str
    roles: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    whole: re.Pattern[str] | None = None
    requires: tuple[str, ...] = ()  # slots that must be present for this rule: number, product, customer
    exclusive: bool = False  # another role saying this gets "unknown", not a later rule (a buyer's 今天卖了多少钱)

    def matches(self, text: str) -> bool:
        if self.whole is not None and self.whole.fullmatch(text):
            return True
        return any(p.search(text) for p in self.patterns)


@dataclass(frozen=True)
class Pack:
    lang: str
    name: str
    script: str  # "cjk": matched with spaces removed; "latin": matched as space-separated words
    money_units: tuple[str, ...]
    count_units: tuple[str, ...]
    rules: tuple[IntentRule, ...]
    customer_patterns: tuple[re.Pattern[str], ...]
    name_stopwords: frozenset[str]
    surnames: frozenset[str]
    price_cues: re.Pattern[str] | None
    quantity_cues: re.Pattern[str] | None
    strip: re.Pattern[str] | None  # words removed to find a new product's name
    stopwords: frozenset[str]
    number_rejects: tuple[str, ...]
    particles: tuple[str, ...]
    ambiguous_units: tuple[str, ...]  # units that are both money and a counter (zh 块)
    name_cues: re.Pattern[str] | None  # 叫 / called: a new product's name follows
    one_words: re.Pattern[str] | None  # an article just before a product means one of it ("a bracelet")
    rewrites: dict[str, str]  # colloquial spellings rewritten before matching (gimme -> give me, 啥 -> 什么)
    periods: dict[str, re.Pattern[str]]
    replies: dict[str, Any]
    grammar: dict[str, list[str]]
    numeral_chars: frozenset[str]  # cjk: characters that are (part of) a numeral, never a name's start
    name_trailing: frozenset[str]  # cjk: sentence-final particles a name pattern may have taken (卖给李姐了)
    not_in_names: frozenset[str]  # cjk: characters no personal or product name is made of (了, 的, 卖 ...)
    lone_char_cues: tuple[str, ...]  # cjk: words after a one-character product name (油多少钱)
    deny_head: re.Pattern[str] | None  # the "no, ..." that starts a correction (不对，应该是)
    corrected_name: re.Pattern[str] | None  # a correction that gives a person's name: group 1 (是李四, to mary)
    order_number: re.Pattern[str] | None  # an order said by its number (三号, order three): group 1
    answer_name_tail: re.Pattern[str] | None  # removed from a name given as an answer (张三的)
    choice_sep: str  # the reply key that joins options of a question (list_sep; English: or)
    ordinals: dict[str, int]  # words that pick a candidate by position (第二, second; -1 is the last)
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    # a customer's name after the word for "to" as a recogniser misheard it (卖了三瓶蜂蜜的李四 for 给李四)
    misheard_customer_patterns: tuple[re.Pattern[str], ...] = ()

    def cue_words(self, key: str) -> re.Pattern[str] | None:
        """The pack's word list ``key`` as one pattern (whole words where words are spaced), compiled once."""
        return cue_pattern(self.raw.get(key), self.script == "latin")

    @functools.cached_property
    def total_words(self) -> re.Pattern[str] | None:
        """Words that make a price the total for all of them (一共, in total)."""
        words = self.raw.get("total_words") or []
        if not words:
            return None
        alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.compile(rf"\b(?:{alts})\b" if self.script == "latin" else alts)

    @functools.cached_property
    def cue_tail(self) -> str:
        """What may stand between a price or quantity cue and its number (卖了三十: 了; latin: spaces)."""
        if self.script == "latin":
            return r"\s*$"
        particles = str(self.raw.get("cue_particles") or "")
        return f"[{re.escape(particles)}]?$" if particles else "$"

    @functools.cached_property
    def per_unit(self) -> re.Pattern[str] | None:
        """Text before "one <unit>" that makes it a per-unit mention (多少钱一瓶, 30 per jar): matched at the
        end of what precedes the number, as written (no word boundary)."""
        words = self.raw.get("per_unit_cues") or []
        if not words:
            return None
        return re.compile("(?:" + "|".join(re.escape(w) for w in words) + r")\s*$")

    @functools.cached_property
    def count_after(self) -> re.Pattern[str] | None:
        """Words right after a bare number that make it a count ("twenty in stock")."""
        words = self.raw.get("count_after") or []
        if not words:
            return None
        alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.compile(rf"\s+(?:{alts})\b" if self.script == "latin" else f"(?:{alts})")

    @functools.cached_property
    def price_and_one(self) -> re.Pattern[str] | None:
        """A numeral that, after a price word in a sale, is a price and "one" of the unit (四十一斤: 40 a jin)."""
        pattern = self.raw.get("price_and_one")
        return re.compile(str(pattern)) if pattern else None

    @property
    def units(self) -> tuple[str, ...]:
        return self.money_units + self.count_units

    def reply(self, key: str) -> str:
        """The reply template ``key`` (dotted for nested keys: ``done.add_product``)."""
        node: Any = self.replies
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise PackError(f"{self.lang}: no reply template {key!r}")
            node = node[part]
        return str(node)


def extra_lang_dirs() -> list[Path]:
    """Folders named by ``VOICEBOT_LANG_PATH`` (``os.pathsep``-separated) that hold more languages."""
    return [Path(d) for d in os.environ.get("VOICEBOT_LANG_PATH", "").split(os.pathsep) if d]


def _pack_path(lang: str) -> Path | None:
    for folder in (PACK_DIR, *extra_lang_dirs()):
        if (folder / f"{lang}.yaml").is_file():
            return folder / f"{lang}.yaml"
    return None


def available_languages() -> list[str]:
    """Languages that have a pack file (built in, or in a ``VOICEBOT_LANG_PATH`` folder)."""
    return sorted({p.stem for folder in (PACK_DIR, *extra_lang_dirs()) for p in folder.glob("*.yaml")})


def _alternation(words: list[str], latin: bool) -> str:
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return rf"\b(?:{alts})\b" if latin else f"(?:{alts})"


# Every key a pack may have; anything else is a typo and an error at load.
PACK_KEYS = frozenset({
    "lang", "name", "script", "name_regex", "terms", "units", "number_rejects", "price_cues", "quantity_cues",
    "strip", "stopwords", "name_stopwords", "surnames", "honorifics", "ambiguous_units", "piece_nouns", "rewrites",
    "name_cues", "one_words", "total_words", "particles", "numeral_chars", "name_trailing", "not_in_names",
    "lone_char_cues", "customer_patterns", "misheard_customer_patterns", "periods", "ordinals", "intents", "grammar", "replies",
    "deny_head", "corrected_name", "order_number", "answer_name_tail", "choice_sep", "not_one_number",
    "order_fillers", "no_price_guess", "question_chars", "lost_customer", "lost_after_product", "sale_said", "name_prefixes", "spent_cues", "command_joins", "correction_head",
    "weight_units",  # issue 18: units whose quantities may be fractions (斤, kg)
    "village",  # issue 21: words for finding a shop (voicebot/village/finder.py)
    "cue_particles", "per_unit_cues", "count_after", "price_and_one", "said_back_joins",  # issue 23: out of nlu
    "pick_fillers", "name_edges",  # issue 23: out of the dialogue (a which-answer's fillers, a name's edges)
})  # fmt: skip
RULE_KEYS = frozenset({"intent", "roles", "patterns", "whole", "requires", "exclusive"})


def known_intents() -> frozenset[str]:
    """Intent names a pack rule may produce: the registry's (voicebot/intents/registry.py)."""
    return frozenset(s.name for s in SPECS) - {"unknown"}


def _pattern_text(pattern: str | list[str], where: str) -> str:
    """A pattern as written: a string, or a list of alternatives (one per line) joined with ``|``."""
    if isinstance(pattern, list):
        return "|".join(str(p) for p in pattern)
    if not isinstance(pattern, str):
        raise PackError(f"{where}: a pattern is a string or a list of strings, not {pattern!r}")
    return pattern


def _compile(pattern: str | list[str], where: str, terms: dict[str, str]) -> re.Pattern[str]:
    """Compile a pack pattern; ``{term}`` is replaced by the pack's ``terms`` (and ``{name}``, a person)."""
    text = _pattern_text(pattern, where)
    for term, value in terms.items():
        text = text.replace("{" + term + "}", value)
    try:
        return re.compile(text)
    except re.error as e:
        raise PackError(f"{where}: bad pattern {text!r}: {e}") from None


def _optional(data: dict[str, Any], key: str, where: str, terms: dict[str, str]) -> re.Pattern[str] | None:
    return _compile(data[key], f"{where}: {key}", terms) if data.get(key) else None


def _check_keys(data: dict[str, Any], where: str) -> None:
    unknown = set(data) - PACK_KEYS
    if unknown:
        raise PackError(f"{where}: unknown key(s) {sorted(unknown)} (known: {', '.join(sorted(PACK_KEYS))})")
    known = known_intents()
    for i, r in enumerate(data.get("intents") or []):
        if not isinstance(r, dict):
            raise PackError(f"{where}: intents[{i}] is not a mapping")
        if set(r) - RULE_KEYS:
            raise PackError(f"{where}: intents[{i}]: unknown key(s) {sorted(set(r) - RULE_KEYS)}")
        if r.get("intent") not in known:
            raise PackError(f"{where}: intents[{i}]: unknown intent {r.get('intent')!r}")


def _terms(data: dict[str, Any], where: str) -> dict[str, str]:
    """``{name}`` (a customer's name) and the pack's own ``terms`` (``{num}``: a numeral), for patterns."""
    terms = {"name": data["name_regex"]}
    for key, value in (data.get("terms") or {}).items():
        if key in terms:
            raise PackError(f"{where}: terms.{key}: the name pattern is name_regex")
        text = _pattern_text(value, f"{where}: terms.{key}")
        for term, earlier in terms.items():  # a term may use the terms above it
            text = text.replace("{" + term + "}", earlier)
        terms[str(key)] = text
    return terms


def _cues(words: list[str] | None, latin: bool) -> re.Pattern[str] | None:
    return re.compile(_alternation(words, latin)) if words else None


@functools.cache
def _cached_cues(words: tuple[str, ...], latin: bool) -> re.Pattern[str] | None:
    return _cues(list(words), latin)


def cue_pattern(words: list[str] | None, latin: bool) -> re.Pattern[str] | None:
    """A pack's word list (``raw``) as one pattern, compiled once."""
    return _cached_cues(tuple(words), latin) if words else None


def _rule(r: dict[str, Any], where: str, terms: dict[str, str], latin: bool) -> IntentRule:
    roles = tuple(r.get("roles", ROLES))
    bad = set(roles) - set(ROLES)
    if bad:
        raise PackError(f"{where}.roles: unknown {sorted(bad)}")
    whole = None
    if r.get("whole"):
        alts = "|".join(re.escape(w) for w in sorted(r["whole"], key=len, reverse=True))
        sep = r"[\s,.!?]*" if latin else ""
        whole = re.compile(rf"(?:(?:{alts}){sep})+")
    patterns = tuple(_compile(p, where, terms) for p in r.get("patterns", []))
    return IntentRule(r["intent"], roles, patterns, whole, tuple(r.get("requires", [])), bool(r.get("exclusive")))


def _build(data: dict[str, Any], path: Path) -> Pack:
    where = str(path)
    _check_keys(data, where)
    try:
        latin = data["script"] == "latin"
        terms = _terms(data, where)
        rules = [_rule(r, f"{where}: intents[{i}]", terms, latin) for i, r in enumerate(data["intents"])]
        grammar = {k: list(v) for k, v in (data.get("grammar") or {}).items() if isinstance(v, list)}
        return Pack(
            lang=data["lang"],
            name=data["name"],
            script=data["script"],
            money_units=tuple(data["units"]["money"]),
            count_units=tuple(data["units"]["count"]),
            rules=tuple(rules),
            customer_patterns=tuple(
                _compile(p, f"{where}: customer_patterns", terms) for p in data.get("customer_patterns", [])
            ),
            misheard_customer_patterns=tuple(
                _compile(p, f"{where}: misheard_customer_patterns", terms)
                for p in data.get("misheard_customer_patterns", [])
            ),
            name_stopwords=frozenset(data.get("name_stopwords", [])),
            surnames=frozenset(data.get("surnames", "")),
            price_cues=_cues(data.get("price_cues"), latin),
            quantity_cues=_cues(data.get("quantity_cues"), latin),
            strip=_cues(data.get("strip"), latin),
            stopwords=frozenset(data.get("stopwords", [])),
            number_rejects=tuple(data.get("number_rejects", [])),
            particles=tuple(data.get("particles", [])),
            ambiguous_units=tuple(data.get("ambiguous_units", [])),
            name_cues=_cues(data.get("name_cues"), latin),
            one_words=re.compile(rf"(?:{_alternation(data['one_words'], latin)})\s*$") if data.get("one_words") else None,
            rewrites={str(k): str(v) for k, v in (data.get("rewrites") or {}).items()},
            periods={k: _compile(v, f"{where}: periods.{k}", terms) for k, v in data.get("periods", {}).items()},
            replies=dict(data["replies"]),
            grammar=grammar,
            numeral_chars=frozenset(str(data.get("numeral_chars", ""))),
            name_trailing=frozenset(str(data.get("name_trailing", ""))),
            not_in_names=frozenset(str(data.get("not_in_names", ""))),
            lone_char_cues=tuple(data.get("lone_char_cues", [])),
            deny_head=_optional(data, "deny_head", where, terms),
            corrected_name=_optional(data, "corrected_name", where, terms),
            order_number=_optional(data, "order_number", where, terms),
            answer_name_tail=_optional(data, "answer_name_tail", where, terms),
            choice_sep=str(data.get("choice_sep", "list_sep")),
            ordinals={str(k): int(v) for k, v in (data.get("ordinals") or {}).items()},
            raw=data,
        )
    except KeyError as e:
        raise PackError(f"{where}: missing key {e}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key written twice in one mapping is an error.

    Plain YAML keeps the last one silently, so two branches adding the same reply key would make
    one of them say the other's words.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise PackError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
            seen.add(key)
        return super().construct_mapping(node, deep)


@functools.cache
def load_pack(lang: str) -> Pack:
    """The pack for ``lang`` (zh, en, ko, ...), loaded once per process."""
    path = _pack_path(lang)
    if path is None:
        raise PackError(f"no language pack for {lang!r} (have: {', '.join(available_languages())})")
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise PackError(f"{path}: not a mapping")
    return _build(data, path)
