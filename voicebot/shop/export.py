"""CSV export of products, orders (one line per item) and the conversation log.

Files are UTF-8 with a byte-order mark so spreadsheet programs show Chinese correctly; money
columns are given both as integer fen and as yuan text.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from voicebot.shop.money import fen_to_yuan
from voicebot.shop.orders import line_total
from voicebot.shop.reports import SALE_STATUSES
from voicebot.store.scoped import ShopDb

PRODUCT_COLUMNS = (
    "id",
    "name",
    "unit",
    "price_fen",
    "price_yuan",
    "stock",
    "active",
    "created_at",
    "updated_at",
)
ORDER_COLUMNS = (
    "order_id", "status", "created_by", "customer_id", "customer_name", "created_at", "updated_at",
    "total_fen", "total_yuan", "product_id", "product_name", "quantity", "unit_price_fen", "unit_price_yuan",
    "line_total_fen", "line_total_yuan", "is_sale", "order_number",
)  # fmt: skip
# ``is_sale``: 1 for the orders every sales figure counts (reports.SALE_STATUSES), 0 for pending or cancelled.
# ``order_number``: the shop's own number of the order (三号订单), appended last so older columns keep their place.
MESSAGE_COLUMNS = (
    "id", "created_at", "updated_at", "channel", "channel_msg_id", "user", "customer_id", "direction", "kind",
    "status", "language", "transcript", "words_json", "intent_json", "action_id", "reply_to_id", "reply_text",
    "media_path", "reply_audio_path", "timings_json", "error",
)  # fmt: skip


def _write(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    os.replace(tmp, path)
    return count


def _products(db: ShopDb) -> Iterable[dict[str, Any]]:
    for row in db.query("SELECT * FROM products WHERE shop_id = ? ORDER BY id", (db.shop_id,)):
        yield {**row, "price_yuan": str(fen_to_yuan(row["price_fen"]))}


def _orders(db: ShopDb) -> Iterable[dict[str, Any]]:
    for row in db.query(
        """SELECT o.id AS order_id, o.number AS order_number, o.status, o.created_by, o.customer_id, c.display_name AS customer_name,
                  o.created_at, o.updated_at, o.total_fen, oi.product_id, p.name AS product_name,
                  oi.quantity, oi.unit_price_fen, oi.line_total_fen
           FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id
           LEFT JOIN customers c ON c.id = o.customer_id WHERE o.shop_id = ? ORDER BY o.id, oi.id""",
        (db.shop_id,),
    ):
        row["total_yuan"] = str(fen_to_yuan(row["total_fen"]))
        row["unit_price_yuan"] = str(fen_to_yuan(row["unit_price_fen"]))
        row["line_total_fen"] = line_total(row)
        row["line_total_yuan"] = str(fen_to_yuan(row["line_total_fen"]))
        row["is_sale"] = int(row["status"] in SALE_STATUSES)
        yield row


def export_csv(db: ShopDb, out_dir: Path | str) -> dict[str, dict[str, Any]]:
    """Write ``products.csv``, ``orders.csv``, ``messages.csv``; returns ``{name: {path, rows}}``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = {}
    for name, columns, rows in (
        ("products", PRODUCT_COLUMNS, _products(db)),
        ("orders", ORDER_COLUMNS, _orders(db)),
        ("messages", MESSAGE_COLUMNS, db.query("SELECT * FROM messages WHERE shop_id = ? ORDER BY id", (db.shop_id,))),
    ):
        path = out / f"{name}.csv"
        result[name] = {"path": str(path), "rows": _write(path, columns, rows)}
    return result
