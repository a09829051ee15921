"""Console benchmark: the operator's list, search and dashboard queries on a large conversation log,
against the bare newest-100 query of the same table (``voicebot log list``'s), in the same process.

Builds a log of N inbound messages from U people (transcripts, words with confidences, intents,
timings) in a temporary SQLite file, then times each console query (median of R runs).

Run: .venv/bin/python bench/console.py [N] [U]
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

from voicebot.console import queries
from voicebot.console.views_dashboard import stats
from voicebot.store import messages
from voicebot.store.clock import utc_now
from voicebot.store.db import open_db, write_tx

RUNS = 7
TZ, LOW = "Asia/Shanghai", 0.7
TEXTS = ["卖了两条手链给张三", "蜂蜜多少钱", "我要两瓶蜂蜜", "今天卖了多少", "上架香菇三十块二十斤", "绿松石手链还有几条"]
INTENTS = ["record_sale", "ask_price", "place_order", "sales_summary", "add_product", "ask_stock"]


def build(path: Path, n: int, users: int) -> None:
    db = open_db(path)
    rng = random.Random(7)
    now = utc_now()
    rows = []
    for i in range(n):
        k = rng.randrange(len(TEXTS))
        words = [{"word": w, "conf": round(rng.uniform(0.3, 1.0), 2)} for w in TEXTS[k][:4]]
        rows.append(("wechat", f"m{i}", f"user{rng.randrange(users)}", "in", "voice", TEXTS[k],
                     json.dumps(words, ensure_ascii=False), json.dumps({"intent": INTENTS[k]}),
                     "好的。", json.dumps({"decode": rng.uniform(5, 15), "asr": rng.uniform(60, 300),
                                          "tts": rng.uniform(1, 80)}),
                     "failed" if rng.random() < 0.03 else "replied", now, now))
    with write_tx(db):
        db.conn.executemany(
            "INSERT INTO messages (channel, channel_msg_id, user, direction, kind, transcript, words_json,"
            " intent_json, reply_text, timings_json, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        build(path, n, users)
        db = open_db(path)
        base = timed(lambda: messages.list_messages(db, direction="in", limit=100))
        cases = {
            "people list (newest exchange each)": lambda: queries.conversations(db, queries.Filters(), TZ, LOW),
            "search '蜂蜜'": lambda: queries.conversations(db, queries.Filters(q="蜂蜜"), TZ, LOW),
            "filter intent=record_sale": lambda: queries.conversations(db, queries.Filters(intent="record_sale"), TZ, LOW),
            "filter low confidence": lambda: queries.conversations(db, queries.Filters(status="low_confidence"), TZ, LOW),
            "dashboard (7 days)": lambda: stats(db, TZ, LOW),
        }
        print(f"log: {n} inbound messages from {users} people; median of {RUNS} runs")
        print(f"baseline  newest 100 messages (voicebot log list): {base:.1f} ms")
        for name, fn in cases.items():
            ms = timed(fn)
            print(f"{name:<38} {ms:8.1f} ms   ratio {ms / base:6.1f}")
        db.close()


if __name__ == "__main__":
    main()
