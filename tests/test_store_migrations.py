"""Schema migrations: from an empty file, from version 1, and refusing a newer file."""

from __future__ import annotations

import sqlite3

import pytest

from voicebot.store import SCHEMA_VERSION, migrate, open_db, schema_version
from voicebot.store.migrations import SchemaTooNew

CORE = {"products", "photos", "product_photos", "customers", "customer_aliases", "orders", "order_items"}
CORE |= {"actions", "messages"}
V2 = {"outbox", "dialogue_state", "kv"}
CONSOLE = {"console_users", "console_sessions", "corrections"}
T0 = "2026-01-01T00:00:00.000000Z"


def at_version(path, version, *inserts):
    """A database file with the schema only up to ``version``, holding the rows ``inserts`` add (SQL; ``:t0`` is a timestamp)."""
    old = open_db(path, migrate_schema=False)
    assert migrate(old, target=version) == version
    tables = set(old.table_names())
    for sql in inserts:
        old.execute(sql, {"t0": T0})
    old.close()
    return tables


def test_empty_file_gets_whole_schema_with_wal_and_foreign_keys(tmp_path):
    db = open_db(tmp_path / "sub" / "shop.db")
    assert schema_version(db) == SCHEMA_VERSION == 13
    assert set(db.table_names()) >= CORE | V2 | CONSOLE | {"leases", "rate_events"}
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
        db.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_fen) VALUES (99, 99, 1, 1)"
        )


def test_upgrade_from_version_1_keeps_data_and_adds_version_2(tmp_path):
    path = tmp_path / "old.db"
    tables = at_version(
        path, 1,
        "INSERT INTO products (name, unit, price_fen, stock, created_at, updated_at)"
        " VALUES ('蜂蜜', '瓶', 3000, 4, :t0, :t0)",
        "INSERT INTO messages (channel, channel_msg_id, user, direction, kind, created_at, updated_at)"
        " VALUES ('wechat', 'm1', 'u1', 'in', 'voice', :t0, :t0)",
    )
    assert not V2 & tables

    db = open_db(path)
    assert schema_version(db) == SCHEMA_VERSION
    assert set(db.table_names()) >= V2
    assert "sent_via" in db["outbox"].columns_dict
    assert "web_links" in db.table_names()
    assert [r["name"] for r in db.query("SELECT name FROM products")] == ["蜂蜜"]
    indexes = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"messages_created", "orders_customer_status", "outbox_due"} <= indexes
    # reopening is a no-op
    db.close()
    assert schema_version(open_db(path)) == SCHEMA_VERSION


def test_upgrade_from_version_2_keeps_queued_replies(tmp_path):
    path = tmp_path / "v2.db"
    at_version(path, 2, "INSERT INTO outbox (channel, user, kind, next_attempt_at, created_at)"
                        " VALUES ('wechat', 'u1', 'voice', :t0, :t0)")
    db = open_db(path)
    assert schema_version(db) == SCHEMA_VERSION
    assert [(r["user"], r["status"], r["sent_via"]) for r in db.query("SELECT * FROM outbox")] == [
        ("u1", "pending", None)
    ]


def test_file_from_a_newer_voicebot_is_refused(tmp_path):
    path = tmp_path / "new.db"
    db = open_db(path)
    db.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SchemaTooNew):
        open_db(path)


def test_upgrade_from_version_8_keeps_orders_and_their_totals(tmp_path):
    """Version 9 adds a said line total (卖了三斤一共一百块); older lines read as quantity × unit price."""
    from voicebot.config import load_config
    from voicebot.shop.facade import Shop

    path = tmp_path / "v8.db"
    at_version(
        path, 8,
        "INSERT INTO products (name, unit, price_fen, stock, created_at, updated_at)"
        " VALUES ('核桃', '斤', 3000, 40, :t0, :t0)",
        "INSERT INTO orders (status, created_by, total_fen, created_at, updated_at)"
        " VALUES ('confirmed', 'seller', 9000, :t0, :t0)",
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_fen) VALUES (1, 1, 3, 3000)",
    )
    db = open_db(path)
    assert schema_version(db) == SCHEMA_VERSION
    shop = Shop(db, load_config(environ={}))
    order = shop.get_order(1)
    assert order["total_fen"] == 9000 and order["items"][0]["line_total_fen"] is None
    sale = shop.record_sale("核桃", 3, total="100")
    assert (sale["total_fen"], sale["items"][0]["unit_price_fen"], sale["items"][0]["line_total_fen"]) == (
        10000, 3333, 10000)
