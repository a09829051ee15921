"""One thread owns the shop's SQLite connection; the event loop hands it work and awaits the result.

SQLite calls are short but blocking; running them on a dedicated thread keeps the event loop free
and gives the connection the one-thread-at-a-time use it needs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from voicebot.config import Config
from voicebot.shop.facade import Shop

T = TypeVar("T")


class DbThread:
    """``await db.run(fn, *args)`` calls ``fn(shop, *args)`` on the database thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voicebot-db")
        self._shop: Shop | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._shop = await loop.run_in_executor(self._executor, Shop.open, self.config)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._shop is None:
            raise RuntimeError("DbThread.start() was not awaited")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, self._shop, *args, **kwargs))

    async def close(self) -> None:
        if self._shop is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._shop.close)
            self._shop = None
        self._executor.shutdown(wait=True)
