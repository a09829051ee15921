"""Market page benchmark: the front page's rows and HTML for a village of S shops, against one shop, in the
same process.

Builds S shops of P products each (every product with a photo row) in a temporary SQLite file, then times
``market_shops`` (one query for the photos, each shop's link) and ``shop_cards`` (the HTML; QR codes are
lazy past three shops): the first render (it makes each shop's link), the median of R warm renders, and
the check that lets the front page reuse them while nothing changed (``market_shops_cached``).

Run: .venv/bin/python bench/market.py [S] [P]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from voicebot.channels.web.market import market_shops, market_shops_cached, shop_cards
from voicebot.config import load_config
from voicebot.shop.shops import add_shop
from voicebot.store.clock import utc_now
from voicebot.store.db import open_db, write_tx

RUNS = 7


def build(path: Path, photos_dir: Path, shops: int, products: int) -> None:
    db = open_db(path)
    now = utc_now()
    for s in range(1, shops):
        add_shop(db, f"店{s}")
    with write_tx(db):
        for shop_id in range(1, shops + 1):
            for p in range(products):
                cur = db.execute(
                    "INSERT INTO products (shop_id, name, price_fen, stock, unit, active, created_at, updated_at)"
                    " VALUES (?, ?, 1000, 5, '个', 1, ?, ?)", (shop_id, f"货{p}", now, now))
                sha = f"{shop_id:032x}{p:032x}"
                photo = db.execute(
                    "INSERT INTO photos (shop_id, sha256, path, thumb_path, format, width, height, bytes, created_at)"
                    " VALUES (?, ?, ?, ?, 'jpeg', 640, 480, 1000, ?)",
                    (shop_id, sha, str(photos_dir / f"{sha}.jpg"), str(photos_dir / f"{sha}.thumb.jpg"), now))
                db.execute("INSERT INTO product_photos (shop_id, product_id, photo_id, position, created_at)"
                           " VALUES (?, ?, ?, 0, ?)", (shop_id, cur.lastrowid, photo.lastrowid, now))
    db.close()


def measure(shops: int, products: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(overrides={"server": {"data_dir": tmp}}, environ={})
        build(config.db_path, config.photos_dir, shops, products)
        db = open_db(config.db_path)
        t = time.perf_counter()
        rows = market_shops(db, config)
        first = time.perf_counter() - t
        times, html_times, size = [], [], 0
        for _ in range(RUNS):
            t = time.perf_counter()
            rows = market_shops(db, config)
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            size = len(shop_cards(rows, "https://example.org").encode())
            html_times.append(time.perf_counter() - t)
        cached = market_shops_cached(db, config, None)
        checks = []
        for _ in range(RUNS):
            t = time.perf_counter()
            assert market_shops_cached(db, config, cached) is cached
            checks.append(time.perf_counter() - t)
        db.close()
        assert len(rows) == shops and all(r["photo_url"] for r in rows)
        return {"first_ms": first * 1000, "rows_ms": statistics.median(times) * 1000,
                "html_ms": statistics.median(html_times) * 1000, "unchanged_check_ms": statistics.median(checks) * 1000,
                "page_kb": size / 1000}


def main() -> None:
    shops = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    products = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    one, many = measure(1, products), measure(shops, products)
    out = {"shops": shops, "products_per_shop": products,
           "one": {k: round(v, 2) for k, v in one.items()},
           "village": {k: round(v, 2) for k, v in many.items()},
           "warm_render_ratio": round((many["rows_ms"] + many["html_ms"]) / (one["rows_ms"] + one["html_ms"]), 1)}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
