"""A one-shop database made by the release before villages opens as shop 1, every row intact."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from voicebot.config import load_config
from voicebot.dialogue import handle_turn
from voicebot.shop import shops
from voicebot.shop.facade import Shop
from voicebot.store.migrations import SCHEMA_VERSION

FIXTURE = Path(__file__).parent / "data" / "fixtures" / "single_shop_v9.sqlite"
TABLES = ("products", "customers", "orders", "order_items", "actions", "messages", "outbox", "dialogue_state",
          "dialogue_turns", "web_links", "console_users")


def _rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    out = {}
    for table in TABLES:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "shop_id"]
        if table == "console_users":
            columns = [c for c in columns if c != "role"]
        if table == "orders":  # v11 adds each order's shop number (equal to its id here: tests/test_order_numbers.py)
            columns = [c for c in columns if c != "number"]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr)
    conn.close()
    return out


def test_an_old_single_shop_file_becomes_shop_one_with_every_row(tmp_path):
    path = tmp_path / "shop.db"
    shutil.copy(FIXTURE, path)
    before = _rows(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 9
    config = load_config(environ={}, overrides={"server": {"data_dir": str(tmp_path)},
                                                "shop": {"name": "郭姐绿松石", "sellers": ["o-guo-seller"]}})
    with Shop.open(config, path) as shop:
        assert shop.village.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [s["id"] for s in shops.list_shops(shop.village)] == [1]
        assert shop.settings["name"] == "郭姐绿松石"
        for table in TABLES:
            if table != "console_users":
                assert {r[0] for r in shop.village.execute(f"SELECT DISTINCT shop_id FROM {table}")} <= {1}, table
        assert shop.village.execute("PRAGMA foreign_key_check").fetchall() == []
        assert [(p["name"], p["stock"]) for p in shop.list_products()] == [("绿松石手链", 13), ("土蜂蜜", 17)]
    assert _rows(path) == before  # nothing lost, nothing changed (shop 1's name is in the new table)

    with Shop.open(config, path) as shop:  # and her undo history still works, by voice
        r = handle_turn(shop.db, shop.config, channel="wechat", user_id="o-guo-seller", role="seller", lang="zh",
                        text="撤销", confidence=None)
        assert r.committed, r.reply
        assert shop.product("绿松石手链")["stock"] == 8  # 手链加五条 undone
        r = handle_turn(shop.db, shop.config, channel="wechat", user_id="o-guo-seller", role="seller", lang="zh",
                        text="撤销", confidence=None)
        assert shop.product("土蜂蜜")["price_fen"] == 5000  # 涨到六十 undone
        # the buyer's pending order from before is still hers, and the seller can still ship it
        (pending,) = shop.list_orders(status="pending")
        assert pending["customer_user"] == "o-buyer-li"
