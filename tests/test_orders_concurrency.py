"""Separate processes with their own connections: no overselling, and SIGKILL never half-writes."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

from voicebot.config import load_config
from voicebot.shop import OutOfStock, Shop
from voicebot.store import open_db

CTX = mp.get_context("fork")


def _config(data_dir: str):
    # One buyer orders again and again here: the per-buyer cap on pending orders (issue 20) is not under test.
    return load_config(overrides={"server": {"data_dir": data_dir},
                                  "dialogue": {"max_pending_orders": 0, "max_pending_units": 0}})


def _buyer(data_dir: str, n: int, barrier, results) -> None:
    with Shop.open(_config(data_dir)) as shop:
        buyer = shop.customer("wechat", f"buyer-{n}")
        barrier.wait()
        try:
            shop.place_order("手链", 1, buyer["id"])
            results.put("ok")
        except OutOfStock as e:
            results.put(f"out:{e.available}")


def test_twenty_buyers_for_five_bracelets(tmp_path):
    with Shop.open(_config(str(tmp_path))) as shop:
        shop.add_product("手链", 200, 5)
    barrier, results = CTX.Barrier(20), CTX.Queue()
    procs = [CTX.Process(target=_buyer, args=(str(tmp_path), n, barrier, results)) for n in range(20)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert outcomes.count("ok") == 5
    assert sorted(set(outcomes) - {"ok"}) == ["out:0"]
    with Shop.open(_config(str(tmp_path))) as shop:
        assert shop.product("手链")["stock"] == 0
        assert len(shop.list_orders()) == 5


def _order_forever(data_dir: str, kill_self_at: int | None) -> None:
    """Buy one bracelet after another; optionally SIGKILL ourselves mid-transaction of order N."""
    shop = Shop.open(_config(data_dir))
    buyer = shop.customer("wechat", "crasher")
    seen = 0

    def trace(sql: str) -> None:
        nonlocal seen
        if sql.startswith("INSERT INTO order_items"):
            seen += 1
            if seen == kill_self_at:  # stock taken and order row written, items not, no COMMIT yet
                os.kill(os.getpid(), signal.SIGKILL)

    shop.db.conn.set_trace_callback(trace)
    while True:
        shop.place_order("手链", 1, buyer["id"])


def _assert_consistent(path, initial_stock: int) -> int:
    db = open_db(path)
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    orders = db.conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    item_less = db.conn.execute(
        "SELECT count(*) FROM orders WHERE id NOT IN (SELECT order_id FROM order_items)"
    ).fetchone()[0]
    sold = db.conn.execute("SELECT coalesce(sum(quantity), 0) FROM order_items").fetchone()[0]
    stock = db.conn.execute("SELECT stock FROM products WHERE name = '手链'").fetchone()[0]
    actions = db.conn.execute("SELECT count(*) FROM actions WHERE kind = 'create_order'").fetchone()[0]
    db.close()
    assert item_less == 0
    assert stock + sold == initial_stock
    assert actions == orders == sold
    return orders


def test_sigkill_inside_a_transaction_leaves_no_half_order(tmp_path):
    with Shop.open(_config(str(tmp_path))) as shop:
        shop.add_product("手链", 200, 10_000)
    proc = CTX.Process(target=_order_forever, args=(str(tmp_path), 25))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == -signal.SIGKILL
    assert _assert_consistent(tmp_path / "voicebot.db", 10_000) == 24


def test_sigkill_from_outside_at_any_moment_leaves_the_database_consistent(tmp_path):
    with Shop.open(_config(str(tmp_path))) as shop:
        shop.add_product("手链", 200, 10_000)
    proc = CTX.Process(target=_order_forever, args=(str(tmp_path), None))
    proc.start()
    db = open_db(tmp_path / "voicebot.db")
    deadline = time.monotonic() + 60
    while db.conn.execute("SELECT count(*) FROM orders").fetchone()[0] < 30 and time.monotonic() < deadline:
        time.sleep(0.005)
    db.close()
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL
    assert _assert_consistent(tmp_path / "voicebot.db", 10_000) >= 30
