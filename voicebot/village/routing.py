"""Which shop a message belongs to, and what a buyer hears while she finds one.

A seller's message goes to her shop; a buyer's to the shop she last scanned or chose (remembered per
follower); with one shop on the account, to that shop. A QR scan of a known code places the buyer there
and is answered with a welcome naming the shop and its goods; an unknown code, or a buyer in no shop
among several, is asked which shop with a short list. What she answers is read by
:mod:`voicebot.village.finder`. Everything here runs on the database thread, on the village-wide db.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from voicebot.dialogue.replies import count, join, say, sentences
from voicebot.shop import shops as registry
from voicebot.village.directory import directory
from voicebot.village.finder import Finding, ShopEntry, find_shop, short_list, supported

NAMED_GOODS = 4  # goods named in a welcome; the rest are counted
LIST_SIZE = 5  # shops read out when asking which one


@dataclass(frozen=True)
class Place:
    """Where a message runs: ``shop_id`` None is a buyer in no shop while the account has several."""

    shop_id: int | None
    role: str  # "seller" | "buyer"
    several: bool  # more than one active shop


@dataclass(frozen=True)
class Answer:
    """A reply given here instead of the shop's dialogue (a welcome, the list question), and where the
    buyer is afterwards."""

    reply: str
    shop_id: int | None
    moved: bool = False


def place_of(db: sqlite_utils.Database, channel: str, user: str) -> Place:
    """Where a message from ``user`` goes before anything she says is read."""
    active = [int(r["id"]) for r in registry.list_shops(db)]
    several = len(active) > 1
    mine = [s for s in registry.shops_of_seller(db, channel, user) if s in active]
    if mine:
        return Place(mine[0], "seller", several)
    if not several:
        return Place(active[0] if active else 1, "buyer", False)
    current = registry.buyer_shop(db, channel, user)
    return Place(current if current in active else None, "buyer", True)


def list_several(db: sqlite_utils.Database) -> bool:
    """The account has more than one open shop."""
    return len(registry.list_shops(db)) > 1


def spoken_shops(db: sqlite_utils.Database) -> list[str]:
    """Names a buyer choosing a shop may say, for a recogniser's prompt: the listed shops and their
    sellers first, then their goods."""
    listed = short_list(directory(db), LIST_SIZE)
    names = [n for e in listed for n in (e.name, *e.sellers)]
    goods = [p for e in listed for p in e.products]
    return list(dict.fromkeys(names + goods))


def _entry(db: sqlite_utils.Database, shop_id: int) -> ShopEntry | None:
    return next((e for e in directory(db) if e.shop_id == shop_id), None)


def welcome(db: sqlite_utils.Database, shop_id: int, lang: str) -> str:
    """The shop's name and what it sells, then what a buyer can say."""
    entry = _entry(db, shop_id)
    name = entry.name if entry else ""
    if entry is None or not entry.products:
        return say(lang, "village.welcome_empty", shop=name)
    names = list(entry.products)
    goods = join(lang, names[:NAMED_GOODS])
    if len(names) > NAMED_GOODS:
        goods = say(lang, "village.goods_more", goods=goods, total=count(lang, len(names)))
    return say(lang, "village.welcome", shop=name, goods=goods, examples=say(lang, "help.buyer"))


def _names(lang: str, entries: list[ShopEntry] | tuple[ShopEntry, ...]) -> str:
    return join(lang, [e.name for e in entries])


def which(db: sqlite_utils.Database, lang: str, key: str = "village.which", **fields: str) -> str:
    """The question "which shop?" with the short list of the busiest shops."""
    return say(lang, key, shops=_names(lang, short_list(directory(db), LIST_SIZE)), **fields)


def after_scan(db: sqlite_utils.Database, channel: str, user: str, scene: str, lang: str) -> Answer:
    """A follower scanned a code: place her in its shop and welcome her, or ask which shop."""
    shop = registry.find_shop(db, scene) if scene else None
    if shop is None or shop.get("removed_at"):
        return Answer(which(db, lang, "village.unknown_code"), registry.buyer_shop(db, channel, user))
    registry.place_buyer(db, channel, user, int(shop["id"]), "scan")
    return Answer(welcome(db, int(shop["id"]), lang), int(shop["id"]), moved=True)


def on_words(db: sqlite_utils.Database, channel: str, user: str, text: str, lang: str,
             place: Place) -> Answer | None:
    """A buyer's words, when the account has several shops: an :class:`Answer` when they were about
    finding a shop (or she is in none and must choose), None when they go to her shop's dialogue."""
    if place.role != "buyer" or not place.several:
        return None
    current = place.shop_id
    found = find_shop(text, lang, directory(db), current) if supported(lang) else (
        None if current is not None else Finding("unclear"))
    if found is None:
        return None
    return _answer(db, channel, user, found, lang, current)


def _answer(db: sqlite_utils.Database, channel: str, user: str, found: Finding, lang: str,
            current: int | None) -> Answer:
    if found.kind == "shop":
        target = found.shops[0]
        if target.shop_id == current:
            return Answer(say(lang, "village.already", shop=target.name), current)
        registry.place_buyer(db, channel, user, target.shop_id, "voice")
        text = welcome(db, target.shop_id, lang)
        if found.by == "product" and found.product:
            text = sentences(lang, say(lang, "village.sold_by", product=found.product, shop=target.name), text)
        return Answer(text, target.shop_id, moved=True)
    if found.kind == "choose":
        listed = found.shops[:LIST_SIZE]
        if found.by == "product":
            return Answer(say(lang, "village.sellers_of", product=found.product, shops=_names(lang, listed)),
                          current)
        return Answer(say(lang, "village.which_of", shops=_names(lang, listed)), current)
    if found.kind == "nobody":
        return Answer(which(db, lang, "village.nobody_sells", product=found.product), current)
    if found.kind == "unknown":
        return Answer(which(db, lang, "village.not_found"), current)
    return Answer(which(db, lang), current)  # "list", "unclear"
