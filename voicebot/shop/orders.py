"""Orders: stock is taken in the same ``BEGIN IMMEDIATE`` transaction that writes the order.

Each order has its shop's own ``number`` (1, 2, 3 … per shop): the number people hear and say
("三号订单", ``voicebot orders ship 3``). ``id`` is the village-wide key used for joins, actions and undo;
it is never said.

Statuses: ``pending -> confirmed -> shipped -> done``; ``pending`` may also go straight to
``shipped``; ``pending`` and ``confirmed`` may become ``cancelled`` (which returns the stock).
``shipped``, ``done`` and ``cancelled`` never go back (except through undo).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from voicebot.shop import quantity as qty
from voicebot.shop.actions import record_action
from voicebot.shop.catalog import ProductRef, require_product
from voicebot.shop.errors import IllegalTransition, InvalidValue, OrderNotFound, OutOfStock
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.scoped import ShopDb

Row = dict[str, Any]

STATUSES = ("pending", "confirmed", "shipped", "done", "cancelled")
OPEN_STATUSES = ("pending", "confirmed")  # not yet shipped: can be shipped or cancelled
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "shipped", "cancelled"}),
    "confirmed": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"done"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}


@dataclass(frozen=True)
class OrderLine:
    """One line of a new order; ``unit_price_fen`` None means the catalog price."""

    product: ProductRef
    quantity: qty.Quantity  # whole, or a decimal for goods sold by weight (1.5 斤)
    unit_price_fen: int | None = None
    line_total_fen: int | None = None  # a total said for the line (一共一百块); None: quantity × unit price


def _lines(items: Iterable[OrderLine | tuple]) -> list[OrderLine]:
    lines = [i if isinstance(i, OrderLine) else OrderLine(*i) for i in items]
    if not lines:
        raise InvalidValue("an order needs at least one item")
    for i, line in enumerate(lines):
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int | float | Decimal):
            raise InvalidValue(f"quantity must be a positive number, got {line.quantity!r}")
        if qty.clean(line.quantity) <= 0:
            raise InvalidValue(f"quantity must be a positive number, got {line.quantity!r}")
        lines[i] = dataclasses.replace(line, quantity=qty.clean(line.quantity))
        if line.unit_price_fen is not None and line.unit_price_fen < 0:
            raise InvalidValue("a price cannot be negative")
        if line.line_total_fen is not None and (
            isinstance(line.line_total_fen, bool) or not isinstance(line.line_total_fen, int) or line.line_total_fen < 0
        ):
            raise InvalidValue("a total must be a whole number of fen, not negative")
    return lines


def pending_held(db: ShopDb, customer_id: int) -> tuple[int, int]:
    """``(orders, units)`` of the customer's own orders still pending."""
    row = db.execute(
        "SELECT count(DISTINCT o.id), coalesce(sum(i.quantity), 0) FROM orders o"
        " LEFT JOIN order_items i ON i.order_id = o.id"
        " WHERE o.shop_id = ? AND o.customer_id = ? AND o.status = 'pending' AND o.created_by = 'buyer'",
        (db.shop_id, customer_id),
    ).fetchone()
    return int(row[0]), int(row[1])


def create_order(
    db: ShopDb,
    items: Sequence[OrderLine | tuple],
    customer_id: int | None = None,
    created_by: str = "buyer",
    actor: int | None = None,
    status: str | None = None,
) -> Row:
    """Write an order and take its stock atomically; ``OutOfStock`` ("only N left") if short.

    ``status`` defaults to ``pending`` for a buyer's order and ``confirmed`` for a sale the seller
    records. Nothing is written when any line fails.
    """
    if created_by not in ("seller", "buyer"):
        raise InvalidValue(f"created_by must be seller or buyer, not {created_by!r}")
    status = status or ("confirmed" if created_by == "seller" else "pending")
    if status not in OPEN_STATUSES + ("done",):
        raise InvalidValue(f"a new order cannot be {status}")
    lines = _lines(items)
    with write_tx(db):
        now = utc_now()
        taken: list[dict[str, Any]] = []
        for line in lines:
            product = require_product(db, line.product)
            cur = db.execute(
                f"UPDATE products SET stock = round(stock - ?, {qty.SQL_PLACES}), updated_at = ?"
                " WHERE id = ? AND shop_id = ? AND active = 1 AND stock >= ?",
                (line.quantity, now, product["id"], db.shop_id, line.quantity),
            )
            if cur.rowcount != 1:
                available = db.execute(
                    "SELECT stock FROM products WHERE id = ? AND shop_id = ?", (product["id"], db.shop_id)
                ).fetchone()[0]
                raise OutOfStock(product["name"], available, line.quantity)
            price = product["price_fen"] if line.unit_price_fen is None else line.unit_price_fen
            taken.append(
                {
                    "product_id": product["id"],
                    "name": product["name"],
                    "quantity": line.quantity,
                    "unit_price_fen": price,
                    "line_total_fen": line.line_total_fen
                    if line.line_total_fen is not None or qty.is_whole(line.quantity)
                    else qty.line_fen(line.quantity, price),  # 1.5 斤: the fen it comes to, kept
                    "before_updated_at": product["updated_at"],
                }
            )
        total = sum(line_total(t) for t in taken)
        # The shop's next number is read and used inside this write transaction: write_tx opens it with
        # BEGIN IMMEDIATE, so no other writer (thread or process) can insert between the max and the insert,
        # and two orders of one shop never share a number (the unique index would refuse it anyway).
        number = next_number(db)
        order_id = db.execute(
            "INSERT INTO orders (shop_id, number, customer_id, status, created_by, actor_id, total_fen, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (db.shop_id, number, customer_id, status, created_by, actor, total, now, now),
        ).lastrowid
        for t in taken:
            db.execute(
                "INSERT INTO order_items (shop_id, order_id, product_id, quantity, unit_price_fen, line_total_fen)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (db.shop_id, order_id, t["product_id"], t["quantity"], t["unit_price_fen"], t["line_total_fen"]),
            )
        record_action(db, actor, "create_order",
                      {"order_id": order_id, "number": number, "items": taken, "updated_at": now})
        return get_order(db, order_id)  # type: ignore[return-value]


def next_number(db: ShopDb) -> int:
    """The number the shop's next order gets: one more than its highest (call inside ``write_tx``)."""
    return db.execute("SELECT coalesce(max(number), 0) + 1 FROM orders WHERE shop_id = ?", (db.shop_id,)).fetchone()[0]


def line_total(line: Row) -> int:
    """What one order line comes to in fen: the total said for it, else quantity × unit price."""
    said = line.get("line_total_fen")
    return said if said is not None else line["quantity"] * line["unit_price_fen"]


def _items(db: ShopDb, order_ids: list[int]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {i: [] for i in order_ids}
    if not order_ids:
        return out
    marks = ",".join("?" * len(order_ids))
    for row in db.query(
        f"""SELECT oi.order_id, oi.product_id, p.name, p.unit, oi.quantity, oi.unit_price_fen, oi.line_total_fen
            FROM order_items oi JOIN products p ON p.id = oi.product_id
            WHERE oi.shop_id = ? AND oi.order_id IN ({marks}) ORDER BY oi.id""",
        [db.shop_id, *order_ids],
    ):
        out[row.pop("order_id")].append(row)
    return out


_ORDER_SQL = """SELECT o.*, c.display_name AS customer_name, c.channel_user_id AS customer_user
                FROM orders o LEFT JOIN customers c ON c.id = o.customer_id"""


def get_order(db: ShopDb, order_id: int) -> Row | None:
    """An order with ``items`` (product_id, name, unit, quantity, unit_price_fen) and customer name."""
    rows = list(db.query(f"{_ORDER_SQL} WHERE o.shop_id = ? AND o.id = ?", (db.shop_id, order_id)))
    if not rows:
        return None
    rows[0]["items"] = _items(db, [order_id])[order_id]
    return rows[0]


def get_order_by_number(db: ShopDb, number: int) -> Row | None:
    """The shop's order with this spoken number (三号订单 -> 3), or None."""
    row = db.execute("SELECT id FROM orders WHERE shop_id = ? AND number = ?", (db.shop_id, number)).fetchone()
    return get_order(db, row[0]) if row else None


def list_orders(
    db: ShopDb,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    customer_id: int | None = None,
    limit: int | None = None,
) -> list[Row]:
    """Orders newest first; ``since``/``until`` are stored UTC timestamps (``until`` exclusive)."""
    where, params = ["o.shop_id = ?"], [db.shop_id]
    if status is not None:
        if status not in STATUSES:
            raise InvalidValue(f"unknown status {status!r}")
        where.append("o.status = ?")
        params.append(status)
    if since is not None:
        where.append("o.created_at >= ?")
        params.append(since)
    if until is not None:
        where.append("o.created_at < ?")
        params.append(until)
    if customer_id is not None:
        where.append("o.customer_id = ?")
        params.append(customer_id)
    sql = _ORDER_SQL + " WHERE " + " AND ".join(where) + " ORDER BY o.id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    orders = list(db.query(sql, params))
    items = _items(db, [o["id"] for o in orders])
    for o in orders:
        o["items"] = items[o["id"]]
    return orders


def set_status(db: ShopDb, order_id: int, status: str, actor: int | None = None) -> Row:
    """Move an order along; illegal moves raise ``IllegalTransition``; cancelling returns stock."""
    if status not in STATUSES:
        raise InvalidValue(f"unknown status {status!r}")
    with write_tx(db):
        order = get_order(db, order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        if status not in TRANSITIONS[order["status"]]:
            raise IllegalTransition(order_id, order["status"], status, number=order["number"])
        now = utc_now()
        db.execute("UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND shop_id = ?",
                   (status, now, order_id, db.shop_id))
        data: dict[str, Any] = {
            "order_id": order_id,
            "number": order["number"],
            "before": {"status": order["status"], "updated_at": order["updated_at"]},
            "after": {"status": status, "updated_at": now},
        }
        if status == "cancelled":
            returned = []
            for item in order["items"]:
                before = db.execute(
                    "SELECT updated_at FROM products WHERE id = ? AND shop_id = ?", (item["product_id"], db.shop_id)
                ).fetchone()
                db.execute(
                    f"UPDATE products SET stock = round(stock + ?, {qty.SQL_PLACES}), updated_at = ?"
                    " WHERE id = ? AND shop_id = ?",
                    (item["quantity"], now, item["product_id"], db.shop_id),
                )
                returned.append({**item, "before_updated_at": before[0]})
            data["returned"] = returned
        record_action(db, actor, "set_status", data)
        return get_order(db, order_id)  # type: ignore[return-value]


def cancel_order(db: ShopDb, order_id: int, actor: int | None = None) -> Row:
    """Cancel an unshipped order and put its stock back."""
    return set_status(db, order_id, "cancelled", actor)


def ship_order(db: ShopDb, order_id: int, actor: int | None = None) -> Row:
    return set_status(db, order_id, "shipped", actor)


def latest_open_order(db: ShopDb, customer_id: int) -> Row | None:
    """The customer's newest order that is not shipped yet (pending or confirmed)."""
    row = db.execute(
        "SELECT id FROM orders WHERE shop_id = ? AND customer_id = ? AND status IN ('pending', 'confirmed')"
        " ORDER BY id DESC LIMIT 1",
        (db.shop_id, customer_id),
    ).fetchone()
    return get_order(db, row[0]) if row else None


def ship_latest(db: ShopDb, customer_id: int, actor: int | None = None) -> Row:
    """Ship the customer's newest unshipped order (``OrderNotFound`` if there is none)."""
    with write_tx(db):
        order = latest_open_order(db, customer_id)
        if order is None:
            raise OrderNotFound(f"customer {customer_id} has no unshipped order")
        return set_status(db, order["id"], "shipped", actor)
