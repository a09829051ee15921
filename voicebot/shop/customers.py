"""Customers: one row per (channel, channel user id), with a role, language and spoken aliases.

People named in a sale who never wrote to the shop ("卖了两条给张三") become customers on the
``spoken`` channel, keyed by the name, so their orders can be found and shipped later.
"""

from __future__ import annotations

from typing import Any

from voicebot.shop import shops
from voicebot.shop.errors import InvalidValue, NotFound
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.errors import IntegrityError
from voicebot.store.scoped import ShopDb

Row = dict[str, Any]
SPOKEN_CHANNEL = "spoken"
ROLES = ("seller", "buyer")


def get_customer(db: ShopDb, customer_id: int) -> Row | None:
    rows = list(db.query("SELECT * FROM customers WHERE id = ? AND shop_id = ?", (customer_id, db.shop_id)))
    return rows[0] if rows else None


def find_customer(db: ShopDb, channel: str, channel_user_id: str) -> Row | None:
    rows = list(
        db.query(
            "SELECT * FROM customers WHERE shop_id = ? AND channel = ? AND channel_user_id = ?",
            (db.shop_id, channel, channel_user_id),
        )
    )
    return rows[0] if rows else None


def get_or_create_customer(
    db: ShopDb,
    channel: str,
    channel_user_id: str,
    display_name: str | None = None,
    language: str | None = None,
    role: str | None = None,
) -> Row:
    """The customer for this channel user, created on first contact (as a buyer unless ``role``).

    A given display name or language updates the row; ``role`` is only applied on creation.
    """
    if not channel or not channel_user_id:
        raise InvalidValue("a customer needs a channel and a channel user id")
    if role is not None and role not in ROLES:
        raise InvalidValue(f"role must be seller or buyer, not {role!r}")
    with write_tx(db):
        now = utc_now()
        try:
            with db.atomic():  # a savepoint: PostgreSQL ends the whole transaction on a refused statement
                db.execute(
                    "INSERT INTO customers (shop_id, channel, channel_user_id, display_name, language, role,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (db.shop_id, channel, channel_user_id, display_name, language, role or "buyer", now, now),
                )
            named = display_name is not None
        except IntegrityError:
            changed = db.execute(
                """UPDATE customers SET display_name = coalesce(?, display_name), language = coalesce(?, language),
                   updated_at = ? WHERE shop_id = ? AND channel = ? AND channel_user_id = ?
                   AND (coalesce(?, display_name) IS DISTINCT FROM display_name
                        OR coalesce(?, language) IS DISTINCT FROM language)""",
                (display_name, language, now, db.shop_id, channel, channel_user_id, display_name, language),
            ).rowcount > 0
            named = display_name is not None and changed  # a language alone changes no steering
        if named:  # a name to steer recognition by (first contact without one changes nothing)
            shops.bump_revision(db, db.shop_id)
        return find_customer(db, channel, channel_user_id)  # type: ignore[return-value]


def set_role(db: ShopDb, customer_id: int, role: str) -> Row:
    if role not in ROLES:
        raise InvalidValue(f"role must be seller or buyer, not {role!r}")
    with write_tx(db):
        cur = db.execute(
            "UPDATE customers SET role = ?, updated_at = ? WHERE id = ? AND shop_id = ?",
            (role, utc_now(), customer_id, db.shop_id),
        )
        if cur.rowcount != 1:
            raise NotFound(f"no customer {customer_id}")
        return get_customer(db, customer_id)  # type: ignore[return-value]


def add_seller(db: ShopDb, channel_user_id: str, channel: str) -> Row:
    """Make this channel user a seller (creating the customer row if needed)."""
    with write_tx(db):
        customer = get_or_create_customer(db, channel, channel_user_id, role="seller")
        if customer["role"] != "seller":
            customer = set_role(db, customer["id"], "seller")
        return customer


def list_customers(db: ShopDb, role: str | None = None) -> list[Row]:
    if role is None:
        return list(db.query("SELECT * FROM customers WHERE shop_id = ? ORDER BY id", (db.shop_id,)))
    return list(db.query("SELECT * FROM customers WHERE shop_id = ? AND role = ? ORDER BY id", (db.shop_id, role)))


def is_seller(db: ShopDb, channel: str, channel_user_id: str) -> bool:
    row = find_customer(db, channel, channel_user_id)
    return bool(row and row["role"] == "seller")


def add_alias(db: ShopDb, customer_id: int, alias: str) -> None:
    """Remember a spoken name for a customer (idempotent)."""
    alias = " ".join(alias.split())
    if not alias:
        raise InvalidValue("an alias cannot be empty")
    with write_tx(db):
        if db.execute(
            "INSERT INTO customer_aliases (shop_id, customer_id, alias, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (customer_id, alias) DO NOTHING",
            (db.shop_id, customer_id, alias, utc_now()),
        ).rowcount:
            shops.bump_revision(db, db.shop_id)


def aliases(db: ShopDb, customer_id: int) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT alias FROM customer_aliases WHERE shop_id = ? AND customer_id = ? ORDER BY id",
            (db.shop_id, customer_id),
        )
    ]


def find_by_alias(db: ShopDb, spoken: str) -> list[Row]:
    """Customers answering to a spoken name (an alias or their display name), most recent first."""
    spoken = " ".join(spoken.split())
    return list(
        db.query(
            """SELECT * FROM customers WHERE shop_id = ? AND id IN (
                   SELECT customer_id FROM customer_aliases WHERE shop_id = ? AND lower(alias) = lower(?)
                   UNION SELECT id FROM customers WHERE shop_id = ? AND lower(display_name) = lower(?))
               ORDER BY updated_at DESC, id DESC""",
            (db.shop_id, db.shop_id, spoken, db.shop_id, spoken),
        )
    )


def spoken_names(db: ShopDb, limit: int = 30) -> list[str]:
    """Names customers were called by (aliases and display names), most recently used first."""
    rows = db.execute(
        """SELECT name FROM (
               SELECT alias AS name, created_at AS at FROM customer_aliases WHERE shop_id = ?
               UNION ALL SELECT display_name, updated_at FROM customers WHERE shop_id = ? AND display_name IS NOT NULL
           ) AS spoken WHERE name != '' GROUP BY name ORDER BY MAX(at) DESC LIMIT ?""",
        (db.shop_id, db.shop_id, limit),
    )
    return [r[0] for r in rows]


def customer_for_name(db: ShopDb, spoken: str) -> Row:
    """The customer a spoken name refers to; a new ``spoken``-channel customer if nobody matches."""
    with write_tx(db):
        found = find_by_alias(db, spoken)
        if found:
            return found[0]
        name = " ".join(spoken.split())
        customer = get_or_create_customer(db, SPOKEN_CHANNEL, name, display_name=name)
        add_alias(db, customer["id"], name)
        return customer


def set_unsubscribed(
    db: ShopDb, channel: str, channel_user_id: str, unsubscribed: bool
) -> None:
    """Record a (un)subscribe event so nothing is pushed to people who left."""
    with write_tx(db):
        customer = get_or_create_customer(db, channel, channel_user_id)
        db.execute(
            "UPDATE customers SET unsubscribed = ?, updated_at = ? WHERE id = ? AND shop_id = ?",
            (int(unsubscribed), utc_now(), customer["id"], db.shop_id),
        )
