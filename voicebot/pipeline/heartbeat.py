"""This process's heartbeat on the shared store, and the work it adopts from processes that died.

Every ``server.claim_lease_s / 3`` seconds it renews the ``process:`` lease (so every message this
process accepted or runs stays its own, however long a run takes), drops the leases of this machine's
dead processes, and, while its run queue has room, claims a batch of orphaned messages and runs them.
A process that dies on another machine therefore holds its messages for at most one lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from voicebot.logs import log_event
from voicebot.pipeline.dbthread import DbThread
from voicebot.store import leases
from voicebot.store.claims import claim_orphans


class Heartbeat:
    """``start()`` once the pipeline can run messages; ``adopt`` schedules each claimed orphan."""

    def __init__(self, db: DbThread, lease_s: float, batch: int, adopt: Callable[[int], object],
                 room: Callable[[], bool]) -> None:
        self.db = db
        self.lease_s = lease_s
        self.batch = batch
        self.adopt = adopt
        self.room = room  # whether the run queue can take more work now
        self.owner = leases.process_owner()
        self.stats = {"beats": 0, "adopted": 0, "missed": 0}
        self._task: asyncio.Task[None] | None = None

    @property
    def every_s(self) -> float:
        return self.lease_s / 3

    async def beat(self) -> list[int]:
        """Renew our lease and adopt orphans once; the adopted message ids."""
        name = leases.PROCESS + self.owner
        await self.db.run_first(lambda shop: leases.renew(shop.village, name, self.owner, self.lease_s))
        self.stats["beats"] += 1
        dead = await self.db.run(lambda shop: leases.reap_dead(shop.village))
        if dead:
            log_event("cluster.process_gone", owners=dead)
        if not self.room():
            return []
        ids = await self.db.run(lambda shop: claim_orphans(shop.village, self.batch, self.owner))
        for mid in ids:
            self.adopt(mid)
        if ids:
            self.stats["adopted"] += len(ids)
            log_event("cluster.adopted", count=len(ids), message_ids=ids)
        return ids

    async def take_turn(self, job: str, every_s: float) -> bool:
        """Whether this process runs ``job`` now (once per ``every_s`` for every process on the store)."""
        return await self.db.run(lambda shop: leases.take_turn(shop.village, job, self.owner, every_s))

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="voicebot-heartbeat")

    async def _loop(self) -> None:
        while True:
            try:
                full = len(await self.beat()) >= self.batch
            except Exception as e:  # a busy or closing store: try again on the next beat
                self.stats["missed"] += 1
                log_event("cluster.beat_failed", logging.WARNING, error=f"{type(e).__name__}: {e}")
                full = False
            await asyncio.sleep(min(1.0, self.every_s) if full else self.every_s)

    async def close(self) -> None:
        """Stop beating and give up our lease, so another machine takes our unfinished messages at once."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        with contextlib.suppress(Exception):
            name = leases.PROCESS + self.owner
            await self.db.run(lambda shop: leases.release(shop.village, name, self.owner))

