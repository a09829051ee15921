"""Where anonymous buyers talk from: the client address a channel last saw for each user.

The browser chat records it (:func:`record`); a buyer's new order counts what every identity from the
same address already holds pending (:func:`pending_held_by_address`), so made-up identities from one
client do not multiply the per-buyer cap. Channels that do not record (WeChat) are unaffected.
Kept in ``kv`` as ``address:<channel>:<user>``, expiring after :data:`KEEP_S`.
"""

from __future__ import annotations

import time

from voicebot.store.kv import kv_get, kv_set
from voicebot.store.scoped import ShopDb

KEEP_S = 7 * 86400.0  # longer than a pending order reserves its stock


def _key(channel: str, user: str) -> str:
    return f"address:{channel}:{user}"


def record(db: ShopDb, channel: str, user: str, address: str) -> None:
    """Note that ``user`` of ``channel`` spoke from ``address`` now."""
    kv_set(db, _key(channel, user), address, time.time() + KEEP_S)


def address_of(db: ShopDb, channel: str, user: str) -> str | None:
    found = kv_get(db, _key(channel, user))
    if found is None or (found[1] is not None and found[1] <= time.time()):
        return None
    return found[0]


def pending_held_by_address(db: ShopDb, customer_id: int) -> tuple[int, int] | None:
    """``(orders, units)`` pending in buyers' own orders of every customer last seen at this
    customer's address, or None when the customer's address is unknown."""
    row = db.execute("SELECT channel, channel_user_id FROM customers WHERE id = ? AND shop_id = ?",
                     (customer_id, db.shop_id)).fetchone()
    address = address_of(db, row[0], row[1]) if row else None
    if not address:
        return None
    found = db.execute(
        "SELECT count(DISTINCT o.id), coalesce(sum(i.quantity), 0) FROM orders o"
        " LEFT JOIN order_items i ON i.order_id = o.id"
        " JOIN customers c ON c.id = o.customer_id"
        " JOIN kv ON kv.key = 'address:' || c.channel || ':' || c.channel_user_id"
        " WHERE o.shop_id = ? AND o.status = 'pending' AND o.created_by = 'buyer' AND kv.value = ?"
        " AND (kv.expires_at IS NULL OR CAST(kv.expires_at AS DOUBLE PRECISION) > ?)",
        (db.shop_id, address, time.time()),
    ).fetchone()
    return int(found[0]), int(found[1])
