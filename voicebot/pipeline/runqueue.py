"""Backpressure for pipeline runs: a fixed number of run tasks drain a bounded queue of message ids.

Accepting a message (the webhook's ack) only commits it to the inbox and puts its id here; it
never waits for a run. At most ``concurrent`` runs are in flight, so the event loop and the
database thread stay free for acks whatever the load. Past ``max_queued`` ids in memory, new ids
are not held at all: the inbox in SQLite is the queue, and the runners refill from it (oldest
first) once the memory queue is empty. Nothing accepted is lost, and each id is run once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from voicebot.logs import log_event

R = TypeVar("R")
STOP = -1  # a queue entry that makes a runner return


class RunQueue(Generic[R]):
    """``submit(id)`` -> a future of ``run(id)``'s result, run by one of ``concurrent`` tasks."""

    def __init__(
        self,
        run: Callable[[int], Awaitable[R]],
        backlog: Callable[[int], Awaitable[list[int]]],
        concurrent: int = 4,
        max_queued: int = 2000,
    ) -> None:
        self._run = run
        self._backlog = backlog  # the oldest unfinished ids in the inbox, at most n
        self.concurrent = concurrent
        self.max_queued = max_queued
        self.futures: dict[int, asyncio.Future[R | None]] = {}  # queued or running, by id
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._overflow = False  # ids were left in the inbox only; refill from it when the queue empties
        self._running = 0
        self._refilling = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = {"runs": 0, "overflowed": 0, "refilled": 0}

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._runner(), name=f"voicebot-runner-{n}") for n in range(self.concurrent)
            ]

    async def close(self, grace_s: float = 30.0) -> None:
        """Stop the runners after their current run (cancelled past ``grace_s``); the queued rest
        stays in the inbox for the next start."""
        self._closing = True
        for _ in self._tasks:
            self._queue.put_nowait(STOP)  # wakes idle runners
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*self._tasks, return_exceptions=True)), grace_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for future in self.futures.values():
            future.cancel()
        self.futures.clear()

    @property
    def depth(self) -> int:
        """Ids queued in memory, not yet running."""
        return self._queue.qsize()

    @property
    def overflowing(self) -> bool:
        """Some accepted messages wait in the inbox only (the memory queue was full)."""
        return self._overflow

    @property
    def busy(self) -> bool:
        return bool(self.futures) or self._overflow or self._running > 0 or self._refilling > 0

    def submit(self, message_id: int) -> asyncio.Future[R | None] | None:
        """Queue ``message_id`` unless it is already queued or running; None when it waits in the inbox."""
        future = self.futures.get(message_id)
        if future is not None:
            return future
        if len(self.futures) >= self.max_queued:
            if not self._overflow:
                log_event("pipeline.backlog_overflow", logging.WARNING, queued=len(self.futures),
                          effect="new messages wait in the inbox and are taken from it in order")
            self._overflow = True
            self.stats["overflowed"] += 1
            self._idle.clear()
            return None
        future = asyncio.get_running_loop().create_future()
        self.futures[message_id] = future
        self._idle.clear()
        self._queue.put_nowait(message_id)
        return future

    async def wait_idle(self) -> None:
        """Wait until nothing is queued, running or left in the inbox by an overflow."""
        while self.busy:
            self._idle.clear()
            await self._idle.wait()

    async def _refill(self) -> None:
        """Move the oldest unfinished inbox ids into the memory queue (after an overflow)."""
        self._overflow = False
        self._refilling += 1
        try:
            limit = self.max_queued  # ids already queued or running come back too, and are skipped
            ids = await self._backlog(limit)
        except Exception as e:  # e.g. the database is closing: try again on the next turn
            log_event("pipeline.backlog_refill_failed", logging.WARNING, error=f"{type(e).__name__}: {e}")
            self._overflow = True
            await asyncio.sleep(1.0)
            return
        finally:
            self._refilling -= 1
        added = 0
        for message_id in ids:
            if message_id in self.futures:
                continue
            if self.submit(message_id) is None:
                break  # full again: the overflow flag is set once more
            added += 1
        if len(ids) >= limit:
            self._overflow = True  # the inbox may hold more than we asked for
        self.stats["refilled"] += added
        if added:
            log_event("pipeline.backlog_refilled", count=added, queued=len(self.futures))

    async def _runner(self) -> None:
        while not self._closing:
            if self._queue.empty() and self._overflow:
                await self._refill()
            if self._queue.empty():
                if not self.busy:
                    self._idle.set()
                message_id = await self._queue.get()
            else:
                message_id = self._queue.get_nowait()
            if message_id == STOP or self._closing:
                return
            future = self.futures.get(message_id)
            self._running += 1
            try:
                result: Any = await self._run(message_id)
            except asyncio.CancelledError:
                self._running -= 1
                raise
            except Exception as e:  # run() turns errors into replies; this is a last guard
                log_event("pipeline.run_crashed", logging.ERROR, message_id=message_id,
                          error=f"{type(e).__name__}: {e}")
                result = None
            self._running -= 1
            self.stats["runs"] += 1
            self.futures.pop(message_id, None)
            if future is not None and not future.done():
                future.set_result(result)
            if not self.busy:
                self._idle.set()
