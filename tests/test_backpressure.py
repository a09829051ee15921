"""Backpressure: acks never wait for pipeline runs, and nothing accepted is lost or run twice.

With one run at a time and a run that cannot finish (held), every message of a burst is still
acknowledged with 200 at once; past the memory queue's limit they wait in the inbox; when the
run is released, every message is processed exactly once and answered once.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from console_helpers import serve_emulator
from test_wechat_e2e import ZH_PRODUCTS
from wechat_service import shop_service

from voicebot.config import load_config
from voicebot.pipeline.dbthread import DbThread
from voicebot.shop.facade import Shop


async def test_acks_are_answered_while_runs_are_saturated_and_all_run_once_afterwards(aiohttp_server, tmp_path):
    emulator = await serve_emulator(aiohttp_server)
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS,
                                 server={"concurrent_runs": 1, "queued_runs": 3})
    pipeline = service.pipeline
    process, gate = pipeline.process, asyncio.Event()
    started: Counter[int] = Counter()

    async def held_process(message_id: int):  # a pipeline stage that is stuck until released
        started[message_id] += 1
        await gate.wait()
        return await process(message_id)

    pipeline.process = held_process
    n = 12
    async with service.client("safe", timeout_s=5.0) as wx:
        buyers = [wx.user() for _ in range(n)]
        deliveries = await asyncio.gather(*(b.send_text("蜂蜜多少钱") for b in buyers))
        # every delivery answered on its first attempt, while the one run slot was taken
        assert [d.status for d in deliveries] == [200] * n
        assert all(len(d.attempts) == 1 and d.reply.kind == "success" for d in deliveries)
        assert len(started) == 1 and not gate.is_set()
        assert pipeline.runs.overflowing  # more than the memory queue holds: the rest wait in the inbox
        with Shop.open(service.config) as shop:
            waiting = shop.list_messages(direction="in")
        assert len(waiting) == n and {m["status"] for m in waiting} <= {"received", "processing"}

        # a redelivery of a queued message is acknowledged too, and does not queue it twice
        again = await wx.post_once(deliveries[-1].prepared)
        assert again.status == 200

        gate.set()
        await service.settle()
    with Shop.open(service.config) as shop:
        done = shop.list_messages(direction="in")
    assert len(done) == n and {m["status"] for m in done} == {"replied"}
    assert set(started.values()) == {1} and len(started) == n  # each message ran exactly once
    assert pipeline.counters.snapshot() == {"ended": {"replied": n}, "errors": {}}  # and ended once, well
    voice = Counter(s.touser for s in emulator.sent if s.msgtype == "voice")
    assert voice == Counter({b.openid: 1 for b in buyers})  # each buyer answered once


async def test_inbox_commits_overtake_queued_pipeline_work_on_the_database_thread(tmp_path):
    db = DbThread(load_config(overrides={"server": {"data_dir": str(tmp_path)}}, environ={}))
    await db.start()
    try:
        entered, blocker, order = threading.Event(), threading.Event(), []
        busy = asyncio.ensure_future(db.run(lambda shop: (entered.set(), blocker.wait(10))))
        assert await asyncio.to_thread(entered.wait, 10)  # the thread is now inside the blocking call
        runs = [asyncio.ensure_future(db.run(lambda shop, i=i: order.append(f"run{i}"))) for i in range(30)]
        ack = asyncio.ensure_future(db.run_first(lambda shop: order.append("ack")))
        await asyncio.sleep(0)  # one turn of the loop: each call above puts its job in its lane
        assert db.queued == 31
        blocker.set()
        await asyncio.gather(busy, ack, *runs)
        assert order[0] == "ack" and order[1:] == [f"run{i}" for i in range(30)]
    finally:
        await db.close()


async def test_run_queue_takes_overflow_from_the_inbox_in_order_and_runs_each_once():
    from voicebot.pipeline.runqueue import RunQueue

    inbox: dict[int, str] = {}  # id -> status, as the messages table holds them
    ran: list[int] = []

    async def run(message_id: int) -> int:
        await asyncio.sleep(0)
        ran.append(message_id)
        inbox[message_id] = "replied"
        return message_id

    async def backlog(limit: int) -> list[int]:
        return sorted(i for i, status in inbox.items() if status == "received")[:limit]

    queue = RunQueue(run, backlog, concurrent=2, max_queued=3)
    queue.start()
    futures = {}
    for i in range(1, 41):
        inbox[i] = "received"
        futures[i] = queue.submit(i)
        assert queue.submit(i) is futures[i]  # a redelivery while queued: the same run
    assert sum(f is not None for f in futures.values()) == 3 and queue.overflowing
    await asyncio.wait_for(queue.wait_idle(), 30)
    assert sorted(ran) == list(range(1, 41)) and len(ran) == 40  # every message, once
    assert ran[:3] == [1, 2, 3] and ran[3:] == sorted(ran[3:])  # the inbox is read oldest first
    assert [futures[i].result() for i in (1, 2, 3)] == [1, 2, 3]
    assert not queue.busy and queue.stats["refilled"] == 37
    await queue.close()
