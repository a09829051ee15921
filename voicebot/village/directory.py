"""The village's shops as a buyer may name them (:class:`~voicebot.village.finder.ShopEntry`), read from the
village-wide database and cached until any shop's revision changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from voicebot.store.clock import to_iso
from voicebot.village.finder import ShopEntry

RECENT_DAYS = 30
_CACHE = "_village_directory"  # kept on the database object: one connection, one thread


def _revisions(db: sqlite_utils.Database) -> tuple[tuple[int, int], ...]:
    rows = db.execute("SELECT id, revision FROM shops WHERE removed_at IS NULL ORDER BY id").fetchall()
    return tuple((int(r[0]), int(r[1] or 0)) for r in rows)


def directory(db: sqlite_utils.Database) -> list[ShopEntry]:
    """Every active shop with its name, code, sellers' names, goods and how busy it is.

    One query per table for the whole village; rebuilt only when a shop was added, removed or changed
    (its revision moved), so a buyer's turn does not re-read 500 catalogs.
    """
    key = _revisions(db)
    hit = getattr(db, _CACHE, None)
    if hit is not None and hit[0] == key:
        return hit[1]
    entries = _load(db, [sid for sid, _ in key])
    setattr(db, _CACHE, (key, entries))
    return entries


def _load(db: sqlite_utils.Database, shop_ids: list[int]) -> list[ShopEntry]:
    if not shop_ids:
        return []
    shops = {int(r[0]): (r[1], r[2] or "") for r in db.execute(
        "SELECT id, name, code FROM shops WHERE removed_at IS NULL").fetchall()}
    goods: dict[int, list[str]] = {}
    for shop_id, name in db.execute(
            "SELECT shop_id, name FROM products WHERE shop_id IS NOT NULL AND active = 1"
            " ORDER BY shop_id, stock <= 0, id").fetchall():
        goods.setdefault(int(shop_id), []).append(name)
    sellers: dict[int, list[str]] = {}
    for shop_id, name in db.execute(
            "SELECT c.shop_id, coalesce(nullif(c.display_name, ''),"
            " (SELECT alias FROM customer_aliases a WHERE a.customer_id = c.id AND a.shop_id = c.shop_id"
            "  ORDER BY a.id LIMIT 1))"
            " FROM customers c WHERE c.shop_id IS NOT NULL AND c.role = 'seller'").fetchall():
        if name:
            sellers.setdefault(int(shop_id), []).append(name)
    since = to_iso(datetime.now(UTC) - timedelta(days=RECENT_DAYS))
    orders = {int(r[0]): int(r[1]) for r in db.execute(
        "SELECT shop_id, count(*) FROM orders WHERE shop_id IS NOT NULL AND created_at >= ?"
        " AND status != 'cancelled' GROUP BY shop_id", (since,)).fetchall()}
    return [
        ShopEntry(sid, shops[sid][0], shops[sid][1], tuple(sellers.get(sid, ())), tuple(goods.get(sid, ())),
                  activity=len(goods.get(sid, ())) + 2 * orders.get(sid, 0))
        for sid in shop_ids if sid in shops
    ]


def forget(db: sqlite_utils.Database) -> None:
    """Drop the cached directory of ``db`` (tests that rewrite shops directly)."""
    if hasattr(db, _CACHE):
        delattr(db, _CACHE)
