"""Which shop a buyer means: by the shop's name, its seller's ("去郭姐那家"), or what she wants to buy
("我要找卖蜂蜜的"). Pure: it reads an utterance against a list of :class:`ShopEntry`; the words are the
language pack's ``village`` section, the replies ``replies.village``.

A buyer in no shop is answering "which shop?", so anything she says is tried: a name, or goods a shop
sells. A buyer inside a shop is talking to that shop, so only a clear request moves her: a "go to" or
"who sells" phrase, a request for the list, or an utterance that is nothing but another shop's name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from pypinyin import lazy_pinyin

from voicebot.lang import language, strip_ends
from voicebot.lang.packs import load_pack
from voicebot.nlu.matching import match_product
from voicebot.nlu.normalize import normalize

Kind = Literal["shop", "choose", "nobody", "list", "unclear", "unknown"]
MAX_CHARS = 200
NAME_EXACT, NAME_IN_TEXT, TEXT_IN_NAME, SOUND_ALIKE = 100, 90, 80, 70


@dataclass(frozen=True)
class ShopEntry:
    """One shop as a buyer may name it."""

    shop_id: int
    name: str
    code: str = ""
    sellers: tuple[str, ...] = ()  # the sellers' names, as people say them
    products: tuple[str, ...] = ()  # what it sells now
    activity: float = 0.0  # goods and recent orders: the short list starts with the busiest


@dataclass(frozen=True)
class Finding:
    """What the buyer asked for.

    ``shop``: one shop (``shops[0]``); ``choose``: several fit (read them out, ask); ``nobody``: no shop
    sells ``product``; ``list``: she asked for the shops; ``unclear``: a buyer in no shop said nothing we
    could place; ``unknown``: she asked to go somewhere that is not a shop here.
    """

    kind: Kind
    shops: tuple[ShopEntry, ...] = ()
    product: str = ""
    by: str = ""  # "name", "seller", "product"


@dataclass(frozen=True)
class _Words:
    spaced: bool  # names are compared word by word, not by characters and sounds
    sells: tuple[re.Pattern[str], ...]
    go: tuple[re.Pattern[str], ...]
    answer: re.Pattern[str] | None
    lists: tuple[str, ...]
    titles: tuple[str, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    vague: tuple[str, ...]
    surnames: frozenset[str]


@functools.cache
def _words(lang: str) -> _Words | None:
    pack = load_pack(lang)
    data = pack.raw.get("village") or {}
    if not data:
        return None

    def patterns(key: str) -> tuple[re.Pattern[str], ...]:
        value = data.get(key) or []
        return tuple(re.compile(p) for p in ([value] if isinstance(value, str) else value))

    answer = patterns("answer")
    return _Words(
        spaced=language(lang).spaced,
        sells=patterns("sells"),
        go=patterns("go"),
        answer=answer[0] if answer else None,
        lists=tuple(normalize(w, lang) for w in data.get("list") or []),
        titles=tuple(data.get("seller_titles") or []),
        prefixes=tuple(data.get("seller_prefixes") or []),
        suffixes=tuple(sorted((s.lower() for s in data.get("name_suffixes") or []), key=len, reverse=True)),
        vague=tuple(data.get("vague") or []),
        surnames=frozenset(pack.surnames),
    )


def supported(lang: str) -> bool:
    """The language's pack has words for finding a shop."""
    return _words(lang) is not None


@functools.lru_cache(maxsize=65536)
def _sound(text: str) -> str:
    """A toneless pinyin key (" guo jie "), so a homophone the recogniser wrote still matches."""
    return " " + " ".join(lazy_pinyin(text, errors="default")) + " "


def _key(text: str, lang: str, words: _Words) -> str:
    return _cached_key(text, lang) if len(text) <= MAX_CHARS else _make_key(text, lang, words)


@functools.lru_cache(maxsize=131072)  # every shop's names and goods, said once per change, not per turn
def _cached_key(text: str, lang: str) -> str:
    return _make_key(text, lang, _words(lang))  # type: ignore[arg-type]


def _make_key(text: str, lang: str, words: _Words) -> str:
    key = strip_ends(normalize(text, lang), words.suffixes)
    if words.spaced:
        key = " ".join(language(lang).match_form(w) for w in key.split())
    return key


@dataclass(frozen=True)
class _Index:
    """Every way of naming every shop, for one list of shops: a bare answer is a dictionary look-up, so
    a buyer's turn inside a shop costs the same with 2 shops or 500."""

    aliases: dict[int, list[tuple[str, str]]]
    exact: dict[str, list[tuple[ShopEntry, str]]]
    sounds: dict[str, list[tuple[ShopEntry, str]]]


_last_index: list[tuple[list[ShopEntry], str, _Index]] = []  # the directory's list is kept while unchanged


def _index(shops: list[ShopEntry], lang: str, words: _Words) -> _Index:
    if _last_index and _last_index[0][0] is shops and _last_index[0][1] == lang:
        return _last_index[0][2]
    aliases: dict[int, list[tuple[str, str]]] = {}
    exact: dict[str, list[tuple[ShopEntry, str]]] = {}
    sounds: dict[str, list[tuple[ShopEntry, str]]] = {}
    for entry in shops:
        aliases[entry.shop_id] = _aliases(entry, lang, words)
        for key, how in aliases[entry.shop_id]:
            exact.setdefault(key, []).append((entry, how))
            if not words.spaced and len(key) >= 2:
                sounds.setdefault(_sound(key), []).append((entry, how))
    index = _Index(aliases, exact, sounds)
    _last_index[:] = [(shops, lang, index)]
    return index


def _aliases(entry: ShopEntry, lang: str, words: _Words) -> list[tuple[str, str]]:
    """``(key, how)`` for every way of naming the shop: its name and its sellers' (郭梅: 郭姐, 老郭). Not
    its code: that is for QR codes and links, and often a word ("tea") a buyer says about goods."""
    out = [(_key(entry.name, lang, words), "name")]
    for seller in entry.sellers:
        key = _key(seller, lang, words)
        if not key:
            continue
        out.append((key, "seller"))
        if words.spaced:
            out.extend((w, "seller") for w in key.split()[:1] if len(w) > 2)  # "mary" for "mary chen"
        elif key[0] in words.surnames and len(key) >= 2:
            out.extend((key[0] + t, "seller") for t in words.titles)
            out.extend((p + key[0], "seller") for p in words.prefixes)
    return [(k, how) for k, how in out if k]


def _contains(text: str, part: str, spaced: bool) -> bool:
    if spaced:
        return f" {part} " in f" {text} "
    return part in text


def _name_score(target: str, key: str, spaced: bool) -> int:
    if target == key:
        return NAME_EXACT
    if len(key) >= 2 and _contains(target, key, spaced):
        return NAME_IN_TEXT
    if len(target) >= 2 and _contains(key, target, spaced):
        return TEXT_IN_NAME
    if not spaced and len(key) >= 2 and (_sound(key) in _sound(target) or
                                        (len(target) >= 2 and _sound(target) in _sound(key))):
        return SOUND_ALIKE
    return 0


def _named(target: str, shops: list[ShopEntry], lang: str, words: _Words,
           exact: bool = False, partial: bool = True) -> tuple[list[ShopEntry], str]:
    """The shops ``target`` names best (several on a tie) and how they were named; ``partial`` lets a
    part of a name count ("绿松石" for 郭姐绿松石)."""
    index = _index(shops, lang, words)
    if exact:
        return _bare_name(target, index)
    best, found, how = 0, [], ""
    for entry in shops:
        scored = [(_name_score(target, key, words.spaced), h) for key, h in index.aliases[entry.shop_id]]
        scored = [(sc, h) for sc, h in scored if partial or sc != TEXT_IN_NAME]
        score, h = max(scored, default=(0, ""))
        if score > best:
            best, found, how = score, [entry], h
        elif score == best and score > 0:
            found.append(entry)
    return found, how


def _bare_name(target: str, index: _Index) -> tuple[list[ShopEntry], str]:
    """A bare answer must be a whole name (or sound like exactly one), not a word that is part of one."""
    hits = index.exact.get(target) or []
    if not hits and len(target) >= 2 and index.sounds:
        alike = index.sounds.get(_sound(target)) or []
        hits = alike if len({e.shop_id for e, _ in alike}) == 1 else []
    found = list({e.shop_id: e for e, _ in hits}.values())
    return found, (hits[0][1] if hits else "")


def _selling(target: str, shops: list[ShopEntry], lang: str, words: _Words,
             fuzzy: bool) -> tuple[list[ShopEntry], str]:
    """Shops that sell what ``target`` names, and the goods as said (a product's name when one fits)."""
    names = sorted({p for e in shops for p in e.products})
    keys = {p: _key(p, lang, words) for p in names}
    said = [p for p in names if keys[p] and _contains(target, keys[p], words.spaced)]
    if said:  # the longest name said is the one meant: 土蜂蜜 rather than 蜂蜜 inside it
        longest = max(len(keys[p]) for p in said)
        said = [p for p in said if len(keys[p]) == longest]
    wider = [p for p in names if len(target) >= 2 and _contains(keys[p], target, words.spaced)]  # 蜂蜜: 土蜂蜜 too
    hits = list(dict.fromkeys(said + wider))
    if not hits and fuzzy and names:
        hits = match_product(target, names, lang).candidates
    if not hits:
        return [], ""
    label = said[0] if said else hits[0] if len(hits) == 1 else target
    return [e for e in shops if any(p in e.products for p in hits)], label


def _match(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for p in patterns:
        m = p.search(text)
        if m and m.group("target").strip():
            return m
    return None


def _by_target(m: re.Match[str], shops: list[ShopEntry], lang: str, words: _Words, current: int | None,
               search: bool) -> Finding | None:
    """A "go to X" (``search`` False) or "who sells X" (True) request."""
    target = _key(m.group("target").strip(), lang, words)
    if not target or any(_contains(target, v, words.spaced) for v in words.vague):
        return Finding("list") if current is None else None  # 有什么卖的: what is on sale, not where
    place = "place" in m.re.groupindex and bool(m.group("place"))  # 去王哥那家: surely a shop
    if not search:
        named, how = _named(target, shops, lang, words)
        if named:
            return _one_or_more(named, how)
    selling, product = _selling(target, shops, lang, words, fuzzy=True)
    if selling:
        if current is not None and not search and any(e.shop_id == current for e in selling):
            return None  # "看看蜂蜜" in a shop that sells honey: a question for this shop
        return _one_or_more(selling, "product", product)
    if search:  # 哪家卖茶叶: no product of that name, but 张家茶叶 sells it by its name
        named, _ = _named(target, shops, lang, words)
        return _one_or_more(named, "name", target) if named else Finding("nobody", product=target)
    return Finding("unknown", product=target) if current is None or place else None


def _one_or_more(shops: list[ShopEntry], how: str, product: str = "") -> Finding:
    if len(shops) == 1:
        return Finding("shop", tuple(shops), product, how)
    return Finding("choose", tuple(sorted(shops, key=lambda e: -e.activity)), product, how)


def find_shop(text: str, lang: str, shops: list[ShopEntry], current: int | None = None) -> Finding | None:
    """What ``text`` asks for among ``shops``; None when it is not about finding a shop (a buyer in
    ``current`` asking that shop something) or the language has no words for it."""
    words = _words(lang)
    if words is None or not shops:
        return None
    norm = normalize(text[:MAX_CHARS * 4], lang)
    if not norm or len(norm) > MAX_CHARS:  # nobody names a shop in a speech
        return None if current is not None else Finding("unclear")
    if any(_contains(norm, w, words.spaced) for w in words.lists if w):
        return Finding("list")
    m = _match(words.sells, norm)
    if m is not None:
        return _by_target(m, shops, lang, words, current, search=True)
    m = _match(words.go, norm)
    if m is not None:
        found = _by_target(m, shops, lang, words, current, search=False)
        if found is not None:
            return found
    answer = words.answer.search(norm) if words.answer else None
    bare = _key(answer.group("target"), lang, words) if answer else norm
    here = next((e for e in shops if e.shop_id == current), None)
    named, how = _named(bare, shops, lang, words, exact=True)  # nothing but a shop's name: 郭姐那家
    if named and not (here is not None and (here in named or _sold_here(bare, here, lang, words))):
        return _one_or_more(named, how)
    if current is not None:
        return None
    # A buyer in no shop: any mention of a shop, a seller, or goods.
    said = _key(text, lang, words)
    selling, product = _selling(said, shops, lang, words, fuzzy=False)
    named, how = _named(said, shops, lang, words, partial=False)
    if named and not (product and all(_name_within(e, product, lang, words) for e in named)):
        return _one_or_more(named, how)
    if selling:
        return _one_or_more(selling, "product", product)
    return Finding("unclear")


def _sold_here(target: str, here: ShopEntry, lang: str, words: _Words) -> bool:
    return any(_key(p, lang, words) == target for p in here.products)


def _name_within(entry: ShopEntry, product: str, lang: str, words: _Words) -> bool:
    """A name of ``entry`` is part of the goods said ("green" in "green tea"): the goods are meant."""
    said = _key(product, lang, words)
    return any(len(k) >= 2 and _contains(said, k, words.spaced) for k, _ in _index_aliases(entry, lang, words))


def _index_aliases(entry: ShopEntry, lang: str, words: _Words) -> list[tuple[str, str]]:
    index = _last_index[0][2] if _last_index else None
    return index.aliases[entry.shop_id] if index and entry.shop_id in index.aliases else _aliases(entry, lang, words)


def short_list(shops: list[ShopEntry], size: int = 5) -> list[ShopEntry]:
    """The shops read out when asking which one: the busiest ``size`` (goods, recent orders)."""
    return sorted(shops, key=lambda e: (-e.activity, e.shop_id))[:size]
