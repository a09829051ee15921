"""The village market: the front page's shops, each with a photo of its goods, its link and its QR code."""

from __future__ import annotations

import html
from typing import Any

import sqlite_utils

from voicebot.channels.web.files import file_url
from voicebot.channels.web.links import shop_link
from voicebot.channels.web.qr import qr_svg
from voicebot.config import Config
from voicebot.shop.shops import list_shops
from voicebot.store.scoped import ShopDb, raw_db

INLINE_QR_UP_TO = 3  # a few shops: their codes are in the page; more: each loads when scrolled to


def market_shops(db: ShopDb | sqlite_utils.Database, config: Config) -> list[dict[str, Any]]:
    """Every open shop, oldest first: id, name, code, language, buyer link slug and a product photo."""
    raw = raw_db(db)
    photos: dict[int, str] = {}
    for row in raw.query(  # each shop's first product with a photo (in stock first), its first photo
        "SELECT p.shop_id, ph.thumb_path FROM products p JOIN product_photos pp ON pp.product_id = p.id"
        " AND pp.shop_id = p.shop_id JOIN photos ph ON ph.id = pp.photo_id AND ph.shop_id = p.shop_id"
        " WHERE p.active = 1 ORDER BY p.shop_id, p.stock <= 0, p.id, pp.position"
    ):
        photos.setdefault(row["shop_id"], row["thumb_path"])
    return [{"id": s["id"], "name": s["name"] or "", "code": s["code"], "language": s["language"],
             "link": shop_link(ShopDb(raw, s["id"])), "photo_url": file_url(config, photos.get(s["id"]))}
            for s in list_shops(raw)]


def market_shops_cached(db: ShopDb | sqlite_utils.Database, config: Config,
                        cached: tuple[Any, list[dict[str, Any]]] | None) -> tuple[Any, list[dict[str, Any]]]:
    """``(state, shops)``: ``cached`` again while no shop was added, renamed, removed or changed its
    catalog (see bench/market.py for what each costs)."""
    raw = raw_db(db)
    state = (tuple(raw.execute(
        "SELECT count(*), max(updated_at), coalesce(sum(revision), 0) FROM shops WHERE removed_at IS NULL").fetchone())
        # village-wide on purpose: any shop's new photo or product, or a change of stock
        + tuple(raw.execute("SELECT count(*), max(updated_at) FROM products WHERE shop_id > 0 AND active = 1"
                            ).fetchone())
        + tuple(raw.execute("SELECT count(*), max(created_at) FROM product_photos WHERE shop_id > 0").fetchone()))
    if cached is not None and cached[0] == state:
        return cached
    return state, market_shops(db, config)


def shop_cards(shops: list[dict[str, Any]], base: str) -> str:
    """The shops as HTML cards: tap the photo to enter, the speaker to hear its name and goods."""
    inline = len(shops) <= INLINE_QR_UP_TO
    cards = []
    for s in shops:
        path = f"/chat/{s['link']}"
        url = base + path
        name, href = html.escape(s["name"]), html.escape(path)
        photo = (f'<img class="photo" src="{html.escape(s["photo_url"])}" alt="{name}">' if s["photo_url"]
                 else '<span class="photo nophoto" aria-hidden="true"></span>')
        qr = (qr_svg(url) if inline
              else f'<img class="qr" loading="lazy" src="{href}/qr.svg" alt="QR" width="160" height="160">')
        cards.append(
            f'<article class="shop" data-shop="{s["id"]}" data-code="{html.escape(s["code"])}" '
            f'lang="{html.escape(s["language"])}">'
            f'<a class="enter" href="{href}">{photo}</a>'
            f'<div class="name">{name}</div>'
            f'<div class="row"><button type="button" class="speak" data-say="{href}/say/name" '
            f'aria-label="{name}"><span class="icon icon-speaker" aria-hidden="true"></span></button>'
            f'<a class="go" href="{href}" aria-label="{name}"><span class="icon icon-cart" aria-hidden="true">'
            f'</span></a></div>'
            f'<div class="qr-box">{qr}</div>'
            f'<a class="buyer-link" href="{href}">{html.escape(url)}</a>'
            f'</article>')
    return "\n".join(cards)
