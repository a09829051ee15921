"""The action journal and undo.

Each committed change made for a user is one ``actions`` row whose ``data_json`` holds what is
needed to reverse it (the "before" values of the touched columns). ``undo(db, actor)`` reverses
that actor's newest not-yet-undone action. Timestamps are restored too when nobody touched the
row since, so an undo leaves the row exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicebot.shop import quantity as qty
from voicebot.shop import shops
from voicebot.shop.errors import NothingToUndo, OutOfStock, UndoConflict
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.errors import IntegrityError
from voicebot.store.scoped import ShopDb

Data = dict[str, Any]

KINDS = (
    "add_product",
    "set_price",
    "adjust_stock",
    "remove_product",
    "attach_photo",
    "create_order",
    "set_status",
)


@dataclass(frozen=True)
class UndoResult:
    """What was undone: the action's id and kind, its data, and a short English description."""

    action_id: int
    kind: str
    data: Data = field(default_factory=dict)
    description: str = ""


def record_action(db: ShopDb, actor: int | None, kind: str, data: Data) -> int:
    """Journal one change (call inside the change's transaction); returns the action id."""
    if kind not in KINDS:
        raise ValueError(f"unknown action kind {kind!r}")
    cur = db.execute(
        "INSERT INTO actions (shop_id, actor_id, kind, data_json, undone, created_at) VALUES (?, ?, ?, ?, 0, ?)",
        (db.shop_id, actor, kind, json.dumps(data, ensure_ascii=False), utc_now()),
    )
    return cur.lastrowid  # type: ignore[return-value]


def last_action(db: ShopDb, actor: int | None) -> dict[str, Any] | None:
    """The actor's newest action that has not been undone (``data`` decoded)."""
    row = db.execute(
        "SELECT id, kind, data_json, created_at FROM actions WHERE shop_id = ? AND actor_id IS NOT DISTINCT FROM ? AND undone = 0"
        " ORDER BY id DESC LIMIT 1",
        (db.shop_id, actor),
    ).fetchone()
    if row is None:
        return None
    return {"id": row[0], "kind": row[1], "data": json.loads(row[2]), "created_at": row[3]}


def _touch(db: ShopDb, table: str, row_id: int, after: str, before: str, now: str) -> None:
    """Put back the old ``updated_at`` if the row still carries ours; otherwise stamp now."""
    db.execute(
        f"UPDATE {table} SET updated_at = CASE WHEN updated_at = ? THEN ? ELSE ? END WHERE id = ? AND shop_id = ?",
        (after, before, now, row_id, db.shop_id),
    )


def _undo_add_product(db: ShopDb, d: Data, now: str) -> str:
    pid = d["product_id"]
    used = db.execute(
        "SELECT (SELECT count(*) FROM order_items WHERE shop_id = ? AND product_id = ?)"
        " + (SELECT count(*) FROM product_photos WHERE shop_id = ? AND product_id = ?)",
        (db.shop_id, pid, db.shop_id, pid),
    ).fetchone()[0]
    if used:  # someone ordered it meanwhile: keep the history, stop selling it
        db.execute("UPDATE products SET active = 0, updated_at = ? WHERE id = ? AND shop_id = ?", (now, pid, db.shop_id))
    else:
        db.execute("DELETE FROM products WHERE id = ? AND shop_id = ?", (pid, db.shop_id))
    return f"removed new product {d['name']}"


def _undo_set_price(db: ShopDb, d: Data, now: str) -> str:
    b, a = d["before"], d["after"]
    db.execute("UPDATE products SET price_fen = ? WHERE id = ? AND shop_id = ?",
               (b["price_fen"], d["product_id"], db.shop_id))
    _touch(db, "products", d["product_id"], a["updated_at"], b["updated_at"], now)
    return f"price of {d['name']} back to {b['price_fen']} fen"


def _undo_adjust_stock(db: ShopDb, d: Data, now: str) -> str:
    stock = db.execute("SELECT stock FROM products WHERE id = ? AND shop_id = ?",
                       (d["product_id"], db.shop_id)).fetchone()[0]
    back = qty.tidy(qty.exact(stock) - qty.exact(d["delta"]))
    if back < 0:
        raise UndoConflict(f"only {qty.tidy(stock)} {d['name']} left; cannot take back {d['delta']}")
    db.execute(
        f"UPDATE products SET stock = round(stock - ?, {qty.SQL_PLACES}) WHERE id = ? AND shop_id = ?",
        (d["delta"], d["product_id"], db.shop_id),
    )
    _touch(db, "products", d["product_id"], d["after"]["updated_at"], d["before"]["updated_at"], now)
    return f"stock of {d['name']} back to {back}"


def _undo_remove_product(db: ShopDb, d: Data, now: str) -> str:
    try:
        with db.atomic():  # a savepoint: PostgreSQL ends the whole transaction on a refused statement
            db.execute("UPDATE products SET active = 1 WHERE id = ? AND shop_id = ?", (d["product_id"], db.shop_id))
    except IntegrityError:
        raise UndoConflict(f"another product is now called {d['name']}") from None
    _touch(db, "products", d["product_id"], d["after"]["updated_at"], d["before"]["updated_at"], now)
    return f"{d['name']} is on sale again"


def _undo_attach_photo(db: ShopDb, d: Data, now: str) -> str:
    db.execute(
        "DELETE FROM product_photos WHERE product_id = ? AND photo_id = ? AND shop_id = ?",
        (d["product_id"], d["photo_id"], db.shop_id),
    )
    return f"photo removed from {d['name']}"


def _undo_create_order(db: ShopDb, d: Data, now: str) -> str:
    oid = d["order_id"]
    row = db.execute("SELECT status FROM orders WHERE id = ? AND shop_id = ?", (oid, db.shop_id)).fetchone()
    if row is None or row[0] not in ("pending", "confirmed", "done"):
        raise UndoConflict(f"order {oid} is {row[0] if row else 'gone'}; it cannot be undone")
    for item in d["items"]:
        db.execute(
            f"UPDATE products SET stock = round(stock + ?, {qty.SQL_PLACES}) WHERE id = ? AND shop_id = ?",
            (item["quantity"], item["product_id"], db.shop_id),
        )
        _touch(db, "products", item["product_id"], d["updated_at"], item["before_updated_at"], now)
    db.execute("DELETE FROM order_items WHERE order_id = ? AND shop_id = ?", (oid, db.shop_id))
    db.execute("DELETE FROM orders WHERE id = ? AND shop_id = ?", (oid, db.shop_id))
    return f"order {oid} removed, stock returned"


def _undo_set_status(db: ShopDb, d: Data, now: str) -> str:
    oid, b, a = d["order_id"], d["before"], d["after"]
    current = db.execute("SELECT status FROM orders WHERE id = ? AND shop_id = ?", (oid, db.shop_id)).fetchone()[0]
    if current != a["status"]:
        raise UndoConflict(f"order {oid} is now {current}")
    for item in d.get("returned", []):  # un-cancel: take the stock again
        cur = db.execute(
            f"UPDATE products SET stock = round(stock - ?, {qty.SQL_PLACES})"
            " WHERE id = ? AND shop_id = ? AND stock >= ?",
            (item["quantity"], item["product_id"], db.shop_id, item["quantity"]),
        )
        if cur.rowcount != 1:
            left = db.execute("SELECT stock FROM products WHERE id = ? AND shop_id = ?",
                              (item["product_id"], db.shop_id)).fetchone()[0]
            raise OutOfStock(item["name"], left, item["quantity"])
        _touch(db, "products", item["product_id"], a["updated_at"], item["before_updated_at"], now)
    db.execute("UPDATE orders SET status = ? WHERE id = ? AND shop_id = ?", (b["status"], oid, db.shop_id))
    _touch(db, "orders", oid, a["updated_at"], b["updated_at"], now)
    return f"order {oid} is {b['status']} again"


_UNDO: dict[str, Callable[[ShopDb, Data, str], str]] = {
    "add_product": _undo_add_product,
    "set_price": _undo_set_price,
    "adjust_stock": _undo_adjust_stock,
    "remove_product": _undo_remove_product,
    "attach_photo": _undo_attach_photo,
    "create_order": _undo_create_order,
    "set_status": _undo_set_status,
}


def undo(db: ShopDb, actor: int | None) -> UndoResult:
    """Reverse the actor's newest not-yet-undone action (``NothingToUndo`` if there is none)."""
    with write_tx(db):
        action = last_action(db, actor)
        if action is None:
            raise NothingToUndo("nothing to undo")
        now = utc_now()
        description = _UNDO[action["kind"]](db, action["data"], now)
        shops.bump_revision(db, db.shop_id)  # the shop changed back (its speech steering is rebuilt)
        db.execute("UPDATE actions SET undone = 1, undone_at = ? WHERE id = ? AND shop_id = ?",
                   (now, action["id"], db.shop_id))
        return UndoResult(action["id"], action["kind"], action["data"], description)
