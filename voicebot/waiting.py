"""Waiting for an asyncio event with a time limit, without losing a cancellation.

Python 3.11's ``asyncio.wait_for`` returns normally when the awaited event is set in the same loop
iteration as its task is cancelled: the cancellation is swallowed, and a loop that waits for "work or a
timeout" never stops (a sender's ``close()`` then waits for ever; seen in tests). ``asyncio.wait`` does not
swallow it.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass (None: no limit); whether it was set."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)
