"""Console benchmark: the operator's list, search and dashboard queries on a large conversation log,
against the bare newest-100 query of the same table (``voicebot log list``'s), in the same process.

Builds a village of S shops (each with a seller, 30 products and 10 orders this week) and a log of N
inbound messages from U people spread over the shops (transcripts, words with confidences, intents,
timings; every other note heard as Whisper hears, its confidence and rivals in its dialogue turn's record)
in a temporary SQLite file, then times each console query (median of R runs) as a station
admin (every shop) and as a helper of one shop, and the village dashboard.

Run: .venv/bin/python bench/console.py [N] [U] [S]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from voicebot.console import auth, queries
from voicebot.console.access import Access
from voicebot.console.views_dashboard import stats
from voicebot.console.village import village_stats
from voicebot.store import messages
from voicebot.store.clock import utc_now
from voicebot.store.db import open_db, write_tx

RUNS = 7
TZ, LOW = "Asia/Shanghai", 0.7
TEXTS = ["卖了两条手链给张三", "蜂蜜多少钱", "我要两瓶蜂蜜", "今天卖了多少", "上架香菇三十块二十斤", "绿松石手链还有几条"]
INTENTS = ["record_sale", "ask_price", "place_order", "sales_summary", "add_product", "ask_stock"]


def build(path: Path, n: int, users: int, shop_count: int) -> None:
    db = open_db(path)
    rng = random.Random(7)
    now = utc_now()
    with write_tx(db):
        for s in range(2, shop_count + 1):
            db.execute("INSERT INTO shops (code, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                       (f"s{s}", f"shop {s}", now, now))
        for s in range(1, shop_count + 1):
            db.execute("INSERT INTO customers (shop_id, channel, channel_user_id, role, created_at, updated_at)"
                       " VALUES (?, 'wechat', ?, 'seller', ?, ?)", (s, f"seller{s}", now, now))
            for k in range(30):
                db.execute("INSERT INTO products (shop_id, name, price_fen, stock, created_at, updated_at)"
                           " VALUES (?, ?, 1000, 50, ?, ?)", (s, f"p{k}", now, now))
            for _ in range(10):
                db.execute("INSERT INTO orders (shop_id, status, total_fen, created_by, created_at, updated_at)"
                           " VALUES (?, 'confirmed', ?, 'seller', ?, ?)", (s, rng.randrange(100, 10000), now, now))
    rows, turns = [], []
    for i in range(n):
        k = rng.randrange(len(TEXTS))
        words = [{"word": w, "conf": round(rng.uniform(0.3, 1.0), 2)} for w in TEXTS[k][:4]]
        user = rng.randrange(users)
        shop = user % shop_count + 1
        who = f"seller{shop}" if user < shop_count else f"user{user}"
        if i % 2:  # heard by Whisper: no word confidences; the note's confidence and rivals are in its turn
            words = []
            asked = [{"reason": "rival", "detail": TEXTS[k - 1]}] if rng.random() < 0.2 else []
            heard = {"confidence": round(rng.uniform(0.4, 1.0), 3), "rivals": [TEXTS[k - 1]], "asked": asked}
            turns.append((shop, str(i + 1), "wechat", who, json.dumps({"reply": "好的。", "heard": heard},
                                                                     ensure_ascii=False), now))
        rows.append((shop, "wechat", f"m{i}", who, "in", "voice", TEXTS[k],
                     json.dumps(words, ensure_ascii=False), json.dumps({"intent": INTENTS[k]}),
                     "好的。", json.dumps({"decode": rng.uniform(5, 15), "asr": rng.uniform(60, 300),
                                          "tts": rng.uniform(1, 80)}),
                     "failed" if rng.random() < 0.03 else "replied", now, now))
    with write_tx(db):
        db.conn.executemany(
            "INSERT INTO messages (shop_id, channel, channel_msg_id, user, direction, kind, transcript, words_json,"
            " intent_json, reply_text, timings_json, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.conn.executemany("INSERT INTO dialogue_turns (shop_id, turn_id, channel, user, result_json, created_at)"
                            " VALUES (?, ?, ?, ?, ?, ?)", turns)  # the log's ids are 1..n (a new file)
    db.close()


def timed(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    shop_count = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        build(path, n, users, shop_count)
        db = open_db(path)
        admin = auth.access_of(db, 0, "admin", "admin")
        helper = Access(0, "helper", "helper", {1: "shop 1"})
        base = timed(lambda: messages.list_messages(db, direction="in", limit=100))
        cases: dict[str, Callable[[], object]] = {}
        for who, seen in (("admin", admin), ("helper", helper)):
            cases |= {
                f"{who}: people list (newest each)": lambda s=seen: queries.conversations(db, s, queries.Filters(), TZ,
                                                                                         LOW),
                f"{who}: search '蜂蜜'": lambda s=seen: queries.conversations(db, s, queries.Filters(q="蜂蜜"), TZ, LOW),
                f"{who}: filter intent=record_sale": lambda s=seen: queries.conversations(
                    db, s, queries.Filters(intent="record_sale"), TZ, LOW),
                f"{who}: filter low confidence": lambda s=seen: queries.conversations(
                    db, s, queries.Filters(status="low_confidence"), TZ, LOW),
                f"{who}: dashboard (7 days)": lambda s=seen: stats(db, s, TZ, LOW),
            }
        cases[f"village dashboard ({shop_count} shops)"] = lambda: village_stats(db, admin)
        print(f"log: {n} inbound messages from {users} people in {shop_count} shops; median of {RUNS} runs")
        print(f"baseline  newest 100 messages (voicebot log list): {base:.1f} ms")
        for name, fn in cases.items():
            ms = timed(fn)
            print(f"{name:<42} {ms:8.1f} ms   ratio {ms / base:6.1f}")
        db.close()


if __name__ == "__main__":
    main()
