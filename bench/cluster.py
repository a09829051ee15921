"""Several front ends on one store: throughput and ack/turn latency, and a WeChat redelivery storm.

Each case starts ``voicebot serve`` processes (ko, espeak-ng replies, the WeChat channel against an
emulator in this process) on a fresh store, then BUYERS buyers send MESSAGES typed messages (orders and
questions) as fast as the acks come back, spread round-robin over the front ends. Cases, in one run so
the shared machine's load falls on all alike:

- ``sqlite x1``: one front end on a SQLite file (the embedded default);
- ``postgres x1`` and ``postgres x2``: one and two front ends on PostgreSQL;
- ``storm``: PostgreSQL, one front end; every message of a first round is then redelivered REPEAT times
  (WeChat retries, a load balancer's replays): the inbox, outbox and database size before and after,
  and the ack times of the redeliveries.

Ack = the webhook's answer time; turn = from the message entering the inbox to its reply being sent
(both read from the store). Throughput = messages / (last reply sent - first message in). Speech is not
in these numbers (typed messages): bench/remote_speech.py measures it, and the README turns measured
real-time factors into speech servers per village.

PostgreSQL comes from the ``PG*`` environment: run under ``pg_virtualenv -t -v 15``; without it only the
SQLite case runs.

Run: pg_virtualenv -t -v 15 .venv/bin/python bench/cluster.py [--buyers 20 --messages 60 --repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from voicebot.config import Config, load_config
from voicebot.shop.facade import Shop
from voicebot.store.clock import from_iso
from voicebot.store.db import connect
from voicebot.testing.cluster import AES_KEY, TOKEN, FrontEnd, start_front_end
from voicebot.testing.speech_servers import free_port
from voicebot.testing.wechat_client import Prepared, WechatClient
from voicebot.testing.wechat_emulator import EmulatorAccount, WechatEmulator

PRODUCTS = [("사과", 3000, 10**6, "개"), ("배", 5000, 10**6, "개")]
TEXTS = ["사과 한 개 주세요", "배 얼마 예요", "배 두 개 주세요", "사과 있어요", "사과 세 개 주세요", "배 있어요"]
NO_SPEECH = ["tcp://127.0.0.1:9"]  # typed messages only: the front ends load no recogniser


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def pg_admin_url(dbname: str) -> str | None:
    env = os.environ
    if "PGHOST" not in env:
        return None
    password = env.get("PGPASSWORD")
    auth = env.get("PGUSER", "postgres") + (f":{password}" if password else "")
    return f"postgresql://{auth}@{env['PGHOST']}:{env.get('PGPORT', '5432')}/{dbname}"


def fresh_pg(name: str) -> str:
    import psycopg

    admin = pg_admin_url(os.environ.get("PGDATABASE", "postgres"))
    assert admin is not None
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_admin_url(name)
    assert url is not None
    return url


class Case:
    """A fresh store with front ends on it, the emulated WeChat, and the buyers' deliveries."""

    def __init__(self, folder: Path, url: str, fronts: int, buyers: int) -> None:
        self.folder, self.url, self.n_fronts, self.n_buyers = folder, url, fronts, buyers
        self.config: Config = load_config(environ={}, overrides={
            "server": {"data_dir": str(folder / "data")}, "storage": {"url": url},
            "shop": {"language": "ko", "currency": "KRW"}})
        self.emulator = WechatEmulator(EmulatorAccount(window_quota=10**6))
        self.fronts: list[FrontEnd] = []
        self.acks: list[float] = []

    async def __aenter__(self) -> Case:
        with Shop.open(self.config) as shop:
            for name, price, stock, unit in PRODUCTS:
                shop.add_product(name, price, stock, unit=unit)
        self._runner = web.AppRunner(self.emulator.app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.emulator.url = f"http://127.0.0.1:{port}"
        self.fronts = [start_front_end(self.folder, f"fe{n}", self.folder / "data", self.emulator,
                                       asr_servers=NO_SPEECH, storage_url=self.url, lease_s=30.0,
                                       concurrent_runs=4) for n in range(self.n_fronts)]
        await asyncio.gather(*(f.healthy() for f in self.fronts))
        self.session = aiohttp.ClientSession()
        self.clients = [WechatClient(f.webhook, TOKEN, app_id=self.emulator.account.app_id, mode="safe",
                                     encoding_aes_key=AES_KEY, timeout_s=30, session=self.session)
                        for f in self.fronts]
        self.users = [self.clients[0].user() for _ in range(self.n_buyers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        for front in self.fronts:
            front.stop()
        await self._runner.cleanup()

    async def post(self, prepared: Prepared, to: int) -> None:
        url = prepared.url.replace(self.fronts[0].webhook, self.fronts[to].webhook, 1)
        attempt = await self.clients[to].post_once(Prepared(url, prepared.body, prepared.inbound))
        if attempt.status != 200:
            raise RuntimeError(f"delivery failed: {attempt.status}\n{self.fronts[to].tail()}")
        self.acks.append(attempt.seconds * 1000)

    async def send_all(self, messages: int) -> list[Prepared]:
        """``messages`` typed messages, each buyer's one after another, round-robin over the front ends."""
        per = [list(range(b, messages, self.n_buyers)) for b in range(self.n_buyers)]
        sent: list[Prepared] = []

        async def buyer(b: int) -> None:
            for n in per[b]:
                self.emulator.user_message(self.users[b].openid)
                prepared = self.clients[0].prepare(self.users[b].text(TEXTS[n % len(TEXTS)]))
                sent.append(prepared)
                await self.post(prepared, n % self.n_fronts)

        await asyncio.gather(*(buyer(b) for b in range(self.n_buyers)))
        return sent

    def query(self, sql: str) -> list[tuple]:
        with contextlib.closing(connect(self.config.database)) as db:
            return db.execute(sql).fetchall()

    async def settled(self, expected: int, timeout_s: float = 600) -> None:
        deadline = time.monotonic() + timeout_s
        while self.query("SELECT count(*) FROM outbox WHERE status = 'sent'")[0][0] < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not settled: {self.fronts[0].tail()}")
            await asyncio.sleep(0.2)

    def turns(self) -> tuple[list[float], float]:
        """Each message's turn (inbox -> reply sent) in ms, and the whole burst's seconds."""
        rows = self.query("SELECT m.created_at, o.sent_at FROM messages m JOIN outbox o ON o.message_id = m.id"
                          " WHERE m.direction = 'in' AND o.kind = 'voice'")
        pairs = [(from_iso(a), from_iso(b)) for a, b in rows]
        span = (max(b for _, b in pairs) - min(a for a, _ in pairs)).total_seconds()
        return [(b - a).total_seconds() * 1000 for a, b in pairs], span

    def size_bytes(self) -> int:
        if self.url:
            return int(self.query("SELECT pg_database_size(current_database())")[0][0])
        path = self.config.db_path
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def burst(folder: Path, label: str, url: str, fronts: int, args: argparse.Namespace) -> dict[str, Any]:
    async with Case(folder, url, fronts, args.buyers) as case:
        await case.send_all(args.messages)
        await case.settled(args.messages)
        turns, span = case.turns()
    return {"case": label, "messages": args.messages, "per_s": args.messages / span,
            "ack_p50": statistics.median(case.acks), "ack_p99": percentile(case.acks, 0.99),
            "turn_p50": statistics.median(turns), "turn_p99": percentile(turns, 0.99)}


async def storm(folder: Path, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """A first round of messages, then each delivered ``repeat`` times more, many at once."""
    async with Case(folder, url, 1, args.buyers) as case:
        sent = await case.send_all(args.buyers)
        await case.settled(args.buyers)
        count = "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM outbox)"
        before, size_before = case.query(count)[0], case.size_bytes()
        case.acks.clear()
        gate = asyncio.Semaphore(32)  # WeChat's servers: many connections at once

        async def again(prepared: Prepared) -> None:
            async with gate:
                await case.post(prepared, 0)

        started = time.perf_counter()
        await asyncio.gather(*(again(p) for p in sent for _ in range(args.repeat)))
        seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)  # any run a redelivery might (wrongly) start would show in the counts
        after, size_after = case.query(count)[0], case.size_bytes()
        replies = len(case.emulator.sent)
    return {"redeliveries": len(sent) * args.repeat, "seconds": seconds,
            "per_s": len(sent) * args.repeat / seconds, "ack_p50": statistics.median(case.acks),
            "ack_p99": percentile(case.acks, 0.99), "messages_rows": (before[0], after[0]),
            "outbox_rows": (before[1], after[1]), "replies_sent": replies,
            "db_kib": (size_before // 1024, size_after // 1024)}


def line(r: dict[str, Any]) -> str:
    return (f"{r['case']:<12} {r['messages']:>4} msgs  {r['per_s']:6.2f} msg/s  ack p50 {r['ack_p50']:6.1f} ms"
            f" p99 {r['ack_p99']:6.1f} ms  turn p50 {r['turn_p50']:7.0f} ms p99 {r['turn_p99']:7.0f} ms")


async def main(args: argparse.Namespace) -> None:
    have_pg = pg_admin_url("postgres") is not None
    with tempfile.TemporaryDirectory(prefix="vb-cluster-") as tmp:
        root = Path(tmp)
        results: dict[str, dict[str, Any]] = {}
        plan: list[tuple[str, Callable[[], str], int]] = [("sqlite x1", lambda: "", 1)]
        if have_pg:
            plan += [("postgres x1", lambda: fresh_pg("vb_bench_1"), 1),
                     ("postgres x2", lambda: fresh_pg("vb_bench_2"), 2)]
        else:
            print("no PG* environment: PostgreSQL cases skipped (run under pg_virtualenv -t -v 15)", file=sys.stderr)
        for label, make_url, fronts in plan:
            folder = root / label.replace(" ", "-")
            folder.mkdir()
            results[label] = await burst(folder, label, make_url(), fronts, args)
            print(line(results[label]), flush=True)
        if have_pg:
            pg1, pg2, lite = results["postgres x1"], results["postgres x2"], results["sqlite x1"]
            print(f"ratios: throughput postgres x2 / x1 = {pg2['per_s'] / pg1['per_s']:.2f}; "
                  f"postgres x1 / sqlite x1 = {pg1['per_s'] / lite['per_s']:.2f}; "
                  f"turn p50 postgres x1 / sqlite x1 = {pg1['turn_p50'] / lite['turn_p50']:.2f}; "
                  f"ack p50 postgres x1 / sqlite x1 = {pg1['ack_p50'] / lite['ack_p50']:.2f}")
        for engine, make_url in ([("postgres", lambda: fresh_pg("vb_bench_storm"))] if have_pg else []) + [
                ("sqlite", lambda: "")]:
            folder = root / f"storm-{engine}"
            folder.mkdir()
            s = await storm(folder, make_url(), args)
            print(f"storm {engine:<8} {s['redeliveries']} redeliveries of {args.buyers} messages in "
                  f"{s['seconds']:.1f} s ({s['per_s']:.0f}/s), ack p50 {s['ack_p50']:.1f} ms p99 {s['ack_p99']:.1f} ms;"
                  f" messages rows {s['messages_rows'][0]} -> {s['messages_rows'][1]}, outbox rows "
                  f"{s['outbox_rows'][0]} -> {s['outbox_rows'][1]}, replies sent {s['replies_sent']},"
                  f" database {s['db_kib'][0]} -> {s['db_kib'][1]} KiB", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=20, help="redeliveries of each message in the storm")
    asyncio.run(main(parser.parse_args()))
