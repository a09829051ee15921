"""The catalog: products with a price (fen), stock, unit and active flag.

Every mutating function takes ``actor`` (a customer id, or None for the system) and records an
action with what reverses it, in the same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from voicebot.shop import quantity as qty
from voicebot.shop import shops
from voicebot.shop.actions import record_action
from voicebot.shop.errors import DuplicateProduct, InvalidValue, NegativeStock, ProductNotFound
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.errors import IntegrityError
from voicebot.store.scoped import ShopDb

ProductRef = int | str
Row = dict[str, Any]

_COLUMNS = "id, name, unit, price_fen, stock, active, created_at, updated_at"


def clean_name(name: str) -> str:
    """Trim and collapse inner whitespace; an empty name is an error."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise InvalidValue("a product needs a name")
    return cleaned


def _one(db: ShopDb, sql: str, params: tuple) -> Row | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def get_product(db: ShopDb, product_id: int) -> Row | None:
    """A product by id, active or not."""
    return _one(db, f"SELECT {_COLUMNS} FROM products WHERE shop_id = ? AND id = ?", (db.shop_id, product_id))


def find_product(db: ShopDb, name: str, include_inactive: bool = False) -> Row | None:
    """The active product with exactly this name (case-insensitive for Latin letters)."""
    name = " ".join(str(name).split())
    row = _one(db, f"SELECT {_COLUMNS} FROM products WHERE shop_id = ? AND name = ? AND active = 1",
               (db.shop_id, name))
    if row is None and include_inactive:
        row = _one(db, f"SELECT {_COLUMNS} FROM products WHERE shop_id = ? AND name = ? ORDER BY id DESC LIMIT 1",
                   (db.shop_id, name))
    return row


def require_product(db: ShopDb, product: ProductRef) -> Row:
    """An ACTIVE product by id or exact name, or ``ProductNotFound``."""
    row = get_product(db, product) if isinstance(product, int) else find_product(db, product)
    if row is None or not row["active"]:
        raise ProductNotFound(product)
    return row


def list_products(db: ShopDb, active_only: bool = True) -> list[Row]:
    """Products by id, each with ``cover_photo_id`` (first attached photo) and ``photo_count``."""
    where = "AND p.active = 1" if active_only else ""
    return list(
        db.query(
            f"""SELECT p.*,
                  (SELECT photo_id FROM product_photos pp WHERE pp.product_id = p.id
                     ORDER BY position LIMIT 1) AS cover_photo_id,
                  (SELECT count(*) FROM product_photos pp WHERE pp.product_id = p.id) AS photo_count
                FROM products p WHERE p.shop_id = ? {where} ORDER BY p.id""", (db.shop_id,)
        )
    )


def product_names(db: ShopDb) -> list[str]:
    """Names of active products (what the NLU matches against)."""
    return [r["name"] for r in db.query(
        "SELECT name FROM products WHERE shop_id = ? AND active = 1 ORDER BY id", (db.shop_id,))]


def _check_count(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"{what} must be a whole number, got {value!r}")
    return value


def add_product(
    db: ShopDb,
    name: str,
    price_fen: int,
    stock: int = 0,
    unit: str = "",
    actor: int | None = None,
) -> Row:
    """Create an active product; a second active product with the same name is ``DuplicateProduct``."""
    name = clean_name(name)
    if _check_count(price_fen, "price") < 0:
        raise InvalidValue("a price cannot be negative")
    stock = qty.clean(stock, "stock")  # 一百五十斤, or 2.5 斤 of goods sold by weight
    if stock < 0:
        raise InvalidValue("stock cannot be negative")
    now = utc_now()
    with write_tx(db):
        if find_product(db, name) is not None:
            raise DuplicateProduct(name)
        try:
            with db.atomic():  # a savepoint: PostgreSQL ends the whole transaction on a refused statement
                cur = db.execute(
                    "INSERT INTO products (shop_id, name, unit, price_fen, stock, active, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                    (db.shop_id, name, unit.strip(), price_fen, stock, now, now),
                )
        except IntegrityError:
            raise DuplicateProduct(name) from None
        product_id = cur.lastrowid
        record_action(db, actor, "add_product", {"product_id": product_id, "name": name})
        shops.bump_revision(db, db.shop_id)  # the shop's speech steering is rebuilt
        return get_product(db, product_id)  # type: ignore[return-value]


def set_price(
    db: ShopDb, product: ProductRef, price_fen: int, actor: int | None = None
) -> Row:
    """Change the price; records the old price (and time) so undo restores the row exactly."""
    if _check_count(price_fen, "price") < 0:
        raise InvalidValue("a price cannot be negative")
    with write_tx(db):
        row = require_product(db, product)
        now = utc_now()
        db.execute(
            "UPDATE products SET price_fen = ?, updated_at = ? WHERE shop_id = ? AND id = ?",
            (price_fen, now, db.shop_id, row["id"])
        )
        record_action(
            db,
            actor,
            "set_price",
            {
                "product_id": row["id"],
                "name": row["name"],
                "before": {"price_fen": row["price_fen"], "updated_at": row["updated_at"]},
                "after": {"price_fen": price_fen, "updated_at": now},
            },
        )
        shops.bump_revision(db, db.shop_id)  # the shop's speech steering is rebuilt
        return get_product(db, row["id"])  # type: ignore[return-value]


def adjust_stock(
    db: ShopDb, product: ProductRef, delta: qty.Quantity, actor: int | None = None
) -> Row:
    """Add (``+5``) or take away (``-2``, ``-0.5``) stock; never below zero (``NegativeStock``)."""
    delta = qty.clean(delta, "stock change")
    if delta == 0:
        raise InvalidValue("a stock change of 0 changes nothing")
    with write_tx(db):
        row = require_product(db, product)
        after = qty.tidy(qty.exact(row["stock"]) + qty.exact(delta))
        if after < 0:
            raise NegativeStock(row["name"], row["stock"], delta)
        now = utc_now()
        db.execute(
            f"UPDATE products SET stock = round(stock + ?, {qty.SQL_PLACES}), updated_at = ?"
            " WHERE shop_id = ? AND id = ?",
            (delta, now, db.shop_id, row["id"]),
        )
        record_action(
            db,
            actor,
            "adjust_stock",
            {
                "product_id": row["id"],
                "name": row["name"],
                "delta": delta,
                "before": {"stock": row["stock"], "updated_at": row["updated_at"]},
                "after": {"stock": after, "updated_at": now},
            },
        )
        shops.bump_revision(db, db.shop_id)  # the shop's speech steering is rebuilt
        return get_product(db, row["id"])  # type: ignore[return-value]


def remove_product(db: ShopDb, product: ProductRef, actor: int | None = None) -> Row:
    """Stop selling a product (deactivate it; orders keep pointing at it)."""
    with write_tx(db):
        row = require_product(db, product)
        now = utc_now()
        db.execute("UPDATE products SET active = 0, updated_at = ? WHERE shop_id = ? AND id = ?",
                   (now, db.shop_id, row["id"]))
        record_action(
            db,
            actor,
            "remove_product",
            {
                "product_id": row["id"],
                "name": row["name"],
                "before": {"active": 1, "updated_at": row["updated_at"]},
                "after": {"active": 0, "updated_at": now},
            },
        )
        shops.bump_revision(db, db.shop_id)  # the shop's speech steering is rebuilt
        return get_product(db, row["id"])  # type: ignore[return-value]
