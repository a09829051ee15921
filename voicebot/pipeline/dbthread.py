"""One thread owns the shop's SQLite connection; the event loop hands it work and awaits the result.

SQLite calls are short but blocking; running them on a dedicated thread keeps the event loop free
and gives the connection the one-thread-at-a-time use it needs. Work comes in two lanes: the
webhook's ack path (``run_first``: commit to the inbox) is taken before any queued pipeline work,
so an ack waits for at most the one call in progress, never behind a backlog of runs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from voicebot.config import Config
from voicebot.lang import warm_languages
from voicebot.shop.facade import Shop

T = TypeVar("T")
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, asyncio.Future]


class DbThread:
    """``await db.run(fn, *args)`` calls ``fn(shop, *args)`` on the database thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._shop: Shop | None = None
        self._first: collections.deque[_Job] = collections.deque()
        self._rest: collections.deque[_Job] = collections.deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="voicebot-db", daemon=True)
            self._thread.start()
        self._shop = await self._submit(self._rest, lambda: Shop.open(self.config))
        await asyncio.to_thread(warm_languages)

    @property
    def queued(self) -> int:
        """Calls waiting for the thread (both lanes)."""
        return len(self._first) + len(self._rest)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._submit(self._rest, self._bind(fn, args, kwargs))

    async def run_first(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like :meth:`run`, ahead of every queued :meth:`run` call (for the ack path only)."""
        return await self._submit(self._first, self._bind(fn, args, kwargs))

    def _bind(self, fn: Callable[..., T], args: tuple, kwargs: dict) -> Callable[[], T]:
        if self._shop is None:
            raise RuntimeError("DbThread.start() was not awaited")
        return functools.partial(fn, self._shop, *args, **kwargs)

    async def _submit(self, lane: collections.deque[_Job], call: Callable[[], T]) -> T:
        if self._thread is None or self._stopping:
            raise RuntimeError("the database thread is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._wake:
            lane.append((call, loop, future))
            self._wake.notify()
        return await future

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._first and not self._rest and not self._stopping:
                    self._wake.wait()
                if self._first:
                    call, loop, future = self._first.popleft()
                elif self._rest:
                    call, loop, future = self._rest.popleft()
                else:
                    return  # stopping and nothing left
            try:
                result, error = call(), None
            except BaseException as e:  # handed to the awaiting coroutine
                result, error = None, e
            with contextlib.suppress(RuntimeError):  # the loop that asked is gone: nobody waits
                loop.call_soon_threadsafe(_settle, future, result, error)

    async def close(self) -> None:
        if self._shop is not None:
            shop = self._shop
            await self._submit(self._rest, shop.close)
            self._shop = None
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
