"""The village's shops: the registry, each shop's sellers, and where each buyer is.

Village-wide: these functions take the raw database (a ``ShopDb`` is unwrapped). A shop's ``code`` is
short, stable and unique: it is the WeChat QR scene and part of the shop's web links.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from voicebot.shop.errors import InvalidValue, NotFound
from voicebot.store.clock import utc_now
from voicebot.store.errors import IntegrityError
from voicebot.store.scoped import ShopDb, raw_db
from voicebot.store.transactions import write_tx

Row = dict[str, Any]
Db = sqlite_utils.Database | ShopDb
DEFAULT_SHOP = 1
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,15}$")
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are read aloud and typed
SOURCES = ("scan", "voice", "link", "only", "operator")
LANGUAGES = ("zh", "en", "ko")
MAX_NAME = 40


class ShopNotFound(NotFound):
    code = "shop_not_found"


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name or len(name) > MAX_NAME:
        raise InvalidValue(f"a shop name is 1 to {MAX_NAME} characters")
    return name


def clean_code(code: str) -> str:
    code = str(code).strip().lower()
    if not CODE_RE.match(code):
        raise InvalidValue("a shop code is 2-16 letters, digits, '-' or '_', starting with a letter or digit")
    return code


def _check_settings(language: str, timezone: str, low_stock_threshold: int) -> None:
    if language not in LANGUAGES:
        raise InvalidValue(f"language must be one of {', '.join(LANGUAGES)}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InvalidValue(f"unknown timezone {timezone!r}") from e
    if not isinstance(low_stock_threshold, int) or low_stock_threshold < 0:
        raise InvalidValue("the low-stock threshold is a whole number, 0 or more")


def get_shop(db: Db, shop_id: int) -> Row | None:
    rows = list(raw_db(db).query("SELECT * FROM shops WHERE id = ?", (shop_id,)))
    return rows[0] if rows else None


def require_shop(db: Db, shop_id: int) -> Row:
    row = get_shop(db, shop_id)
    if row is None or row["removed_at"] is not None:
        raise ShopNotFound(f"no shop {shop_id}")
    return row


def list_shops(db: Db) -> list[Row]:
    """Every shop still open, oldest first."""
    return list(raw_db(db).query("SELECT * FROM shops WHERE removed_at IS NULL ORDER BY id"))


def find_shop(db: Db, name_or_code: str | int) -> Row | None:
    """An open shop by id, code or exact name (case-insensitive)."""
    raw = raw_db(db)
    if isinstance(name_or_code, int) or str(name_or_code).isdigit():
        row = get_shop(raw, int(name_or_code))
        if row and row["removed_at"] is None:
            return row
    text = " ".join(str(name_or_code).split())
    rows = list(raw.query(
        "SELECT * FROM shops WHERE removed_at IS NULL AND (lower(code) = lower(?) OR lower(name) = lower(?))"
        " ORDER BY lower(code) = lower(?) DESC, id LIMIT 1", (text, text, text)))
    return rows[0] if rows else None


def pick_shop(db: Db, name_or_code: str | int | None) -> Row:
    """The shop a command means: the one named, or the only one. Several and none named is an error
    that lists them (for ``--shop``)."""
    if name_or_code not in (None, ""):
        row = find_shop(db, name_or_code)  # type: ignore[arg-type]
        if row is None:
            raise ShopNotFound(f"no shop called {name_or_code!r}; shops: {_names(db)}")
        return row
    shops = list_shops(db)
    if len(shops) == 1:
        return shops[0]
    raise InvalidValue(f"there are {len(shops)} shops; say which with --shop: {_names(db)}")


def _names(db: Db) -> str:
    return ", ".join(f"{s['name'] or '(unnamed)'} [{s['code']}]" for s in list_shops(db)) or "none"


def _new_code(raw: sqlite_utils.Database) -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
        if not list(raw.query("SELECT 1 FROM shops WHERE code = ?", (code,))):
            return code


def add_shop(
    db: Db, name: str, *, code: str | None = None, language: str = "zh", timezone: str = "Asia/Shanghai",
    currency: str = "CNY", low_stock_threshold: int = 3,
) -> Row:
    raw = raw_db(db)
    name = _clean_name(name)
    _check_settings(language, timezone, low_stock_threshold)
    with write_tx(raw):
        code = clean_code(code) if code else _new_code(raw)
        now = utc_now()
        try:
            with raw.atomic():  # a savepoint: PostgreSQL ends the whole transaction on a refused statement
                cur = raw.execute(
                    "INSERT INTO shops (code, name, language, timezone, currency, low_stock_threshold,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (code, name, language, timezone, currency, low_stock_threshold, now, now))
        except IntegrityError as e:
            raise InvalidValue(f"a shop called {name!r} or with code {code!r} already exists") from e
        return get_shop(raw, cur.lastrowid)  # type: ignore[arg-type,return-value]


def update_shop(db: Db, shop_id: int, **settings: Any) -> Row:
    """Change a shop's name, language, timezone, currency or low-stock threshold (only what differs)."""
    raw = raw_db(db)
    allowed = {"name", "language", "timezone", "currency", "low_stock_threshold"}
    unknown = set(settings) - allowed
    if unknown:
        raise InvalidValue(f"unknown shop setting(s): {', '.join(sorted(unknown))}")
    with write_tx(raw):
        row = require_shop(raw, shop_id)
        new = {k: v for k, v in settings.items() if v is not None and row[k] != v}
        if "name" in new:
            new["name"] = _clean_name(new["name"])
        merged = {**row, **new}
        _check_settings(merged["language"], merged["timezone"], merged["low_stock_threshold"])
        if new:
            sets = ", ".join(f"{k} = ?" for k in new)
            try:
                with raw.atomic():  # a savepoint: PostgreSQL ends the whole transaction on a refused statement
                    raw.execute(f"UPDATE shops SET {sets}, updated_at = ? WHERE id = ?",
                                (*new.values(), utc_now(), shop_id))
            except IntegrityError as e:
                raise InvalidValue(f"another shop is called {new.get('name')!r}") from e
        return require_shop(raw, shop_id)


def rename_shop(db: Db, shop_id: int, name: str) -> Row:
    return update_shop(db, shop_id, name=name)


def remove_shop(db: Db, shop_id: int) -> Row:
    """Close a shop: it leaves the market and the registry; its rows stay for the record."""
    raw = raw_db(db)
    with write_tx(raw):
        require_shop(raw, shop_id)
        if len(list_shops(raw)) == 1:
            raise InvalidValue("the last shop cannot be removed")
        raw.execute("UPDATE shops SET removed_at = ?, updated_at = ? WHERE id = ?", (utc_now(), utc_now(), shop_id))
        raw.execute("DELETE FROM buyer_shops WHERE shop_id = ?", (shop_id,))
        return get_shop(raw, shop_id)  # type: ignore[return-value]


def sellers_of(db: Db, shop_id: int) -> list[Row]:
    """The shop's sellers (customer rows with role ``seller``)."""
    return list(raw_db(db).query(
        "SELECT * FROM customers WHERE shop_id = ? AND role = 'seller' ORDER BY id", (shop_id,)))


def shops_of_seller(db: Db, channel: str, user: str) -> list[int]:
    """The open shops this channel user sells in."""
    return [r["shop_id"] for r in raw_db(db).query(
        "SELECT c.shop_id FROM customers c JOIN shops s ON s.id = c.shop_id WHERE c.channel = ?"
        " AND c.channel_user_id = ? AND c.role = 'seller' AND s.removed_at IS NULL ORDER BY c.shop_id",
        (channel, user))]


def place_buyer(db: Db, channel: str, user: str, shop_id: int, source: str) -> None:
    """Remember that this buyer is now in ``shop_id`` (a scan, a link, her voice, an operator)."""
    if source not in SOURCES:
        raise InvalidValue(f"unknown source {source!r}")
    raw = raw_db(db)
    with write_tx(raw):
        require_shop(raw, shop_id)
        raw.execute(
            "INSERT INTO buyer_shops (channel, user, shop_id, source, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, user) DO UPDATE SET shop_id = excluded.shop_id, source = excluded.source,"
            " updated_at = excluded.updated_at", (channel, user, shop_id, source, utc_now()))


def buyer_shop(db: Db, channel: str, user: str) -> int | None:
    """The shop this buyer is in, if she chose one (and it is still open)."""
    rows = list(raw_db(db).query(
        "SELECT b.shop_id FROM buyer_shops b JOIN shops s ON s.id = b.shop_id"
        " WHERE b.channel = ? AND b.user = ? AND s.removed_at IS NULL", (channel, user)))
    return rows[0]["shop_id"] if rows else None


def bump_revision(db: Db, shop_id: int) -> None:
    """Note that a shop's catalog or customers changed (speech steering built from them is stale)."""
    raw_db(db).execute("UPDATE shops SET revision = revision + 1 WHERE id = ?", (shop_id,))


def revision(db: Db, shop_id: int) -> int:
    rows = list(raw_db(db).query("SELECT revision FROM shops WHERE id = ?", (shop_id,)))
    return rows[0]["revision"] if rows else 0


__all__ = [
    "DEFAULT_SHOP", "ShopNotFound", "add_shop", "bump_revision", "buyer_shop", "clean_code", "find_shop",
    "get_shop", "list_shops", "pick_shop", "place_buyer", "remove_shop", "rename_shop", "require_shop",
    "revision", "sellers_of", "shops_of_seller", "update_shop",
]
