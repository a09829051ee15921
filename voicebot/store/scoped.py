"""``ShopDb``: the database as one shop sees it. Every shop-owned read and write goes through it.

A village keeps many shops in one database. ``ShopDb`` is the raw connection bound to one ``shop_id``;
its ``execute``/``query`` refuse SQL that touches a shop-owned table without naming ``shop_id``, so a
query that would read or change every shop fails loudly instead of leaking. Village-wide code (the shop
registry, migrations, the station's dashboard) uses the raw ``sqlite_utils.Database`` and says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

import sqlite_utils

# Tables whose rows belong to one shop (each has a ``shop_id`` column).
SHOP_TABLES = frozenset({
    "products", "photos", "product_photos", "customers", "customer_aliases", "orders", "order_items",
    "actions", "dialogue_state", "dialogue_turns", "web_links", "corrections", "messages", "outbox",
})
_TABLE_RE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+\"?(\w+)", re.IGNORECASE)
_UNION_RE = re.compile(r"\bUNION(?:\s+ALL)?\b", re.IGNORECASE)
_SHOP_ID_RE = re.compile(r"\bshop_id\b", re.IGNORECASE)


class UnscopedQuery(RuntimeError):
    """SQL on a shop-owned table that does not say which shop: it would reach every shop's rows."""


def shop_tables_in(sql: str) -> set[str]:
    """The shop-owned tables a statement names."""
    return {t.lower() for t in _TABLE_RE.findall(sql)} & SHOP_TABLES


def check_scoped(sql: str) -> None:
    """Raise ``UnscopedQuery`` if ``sql`` touches a shop-owned table without a ``shop_id`` condition."""
    for part in _UNION_RE.split(sql):  # each SELECT of a UNION names its own shop
        tables = shop_tables_in(part)
        if tables and not _SHOP_ID_RE.search(part):
            raise UnscopedQuery(
                f"SQL on {', '.join(sorted(tables))} without shop_id: {' '.join(sql.split())[:120]}")


class ShopDb:
    """One open database seen by one shop (``db.shop_id``); everything else is the raw database's."""

    def __init__(self, raw: sqlite_utils.Database, shop_id: int) -> None:
        if isinstance(raw, ShopDb):
            raw = raw.raw
        if not isinstance(shop_id, int) or isinstance(shop_id, bool) or shop_id < 1:
            raise ValueError(f"a shop id is a positive integer, not {shop_id!r}")
        self.raw = raw
        self.shop_id = shop_id

    @property
    def conn(self) -> Any:
        return self.raw.conn

    def execute(self, sql: str, parameters: Sequence | dict[str, Any] | None = None) -> Any:
        check_scoped(sql)
        return self.raw.execute(sql, parameters)

    def query(self, sql: str, params: Sequence | dict[str, Any] | None = None) -> Generator[dict, None, None]:
        check_scoped(sql)
        return self.raw.query(sql, params)

    def table(self, name: str, **kwargs: Any) -> Any:
        if name.lower() in SHOP_TABLES:
            raise UnscopedQuery(f"table {name!r} belongs to shops: write SQL with shop_id")
        return self.raw.table(name, **kwargs)

    __getitem__ = table

    def atomic(self) -> Any:
        return self.raw.atomic()

    def ensure_autocommit_on(self) -> Any:
        return self.raw.ensure_autocommit_on()

    def close(self) -> None:
        self.raw.close()

    def other(self, shop_id: int) -> ShopDb:
        """The same connection seen by another shop."""
        return ShopDb(self.raw, shop_id)


def raw_db(db: sqlite_utils.Database | ShopDb) -> sqlite_utils.Database:
    """The village-wide database under ``db`` (for the registry and other cross-shop code)."""
    return db.raw if isinstance(db, ShopDb) else db


F = TypeVar("F", bound=Callable[..., Any])


def village_wide(fn: F) -> F:
    """Mark a function of the village-wide queues (inbox, outbox): it takes either database and works on
    every shop's rows; callers filter by shop where they show them."""

    @functools.wraps(fn)
    def wrapper(db: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(raw_db(db), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = ["SHOP_TABLES", "ShopDb", "UnscopedQuery", "check_scoped", "raw_db", "shop_tables_in", "village_wide"]
