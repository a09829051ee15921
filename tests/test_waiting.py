"""A loop that waits for work or a timeout stops when it is cancelled, even if work arrives at that moment."""

from __future__ import annotations

import asyncio

from voicebot.waiting import wait_event


async def _stops(wait) -> bool:
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            event.clear()
            await wait(event)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # it waits
    event.set()  # work arrives as the service closes
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    task.cancel()
    return bool(done) and task.cancelled()


async def test_a_cancel_is_never_lost_when_the_event_is_set_at_the_same_moment() -> None:
    # (with Python 3.11's asyncio.wait_for in its place the loop never stops: the outbox sender's close() hung)
    assert await _stops(lambda event: wait_event(event, 10))


async def test_it_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert not await wait_event(event, 0.01)
    event.set()
    assert await wait_event(event, None)
