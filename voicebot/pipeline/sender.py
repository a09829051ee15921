"""The outbox sender: delivers queued replies through their channel, once each, with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Channel, SendError
from voicebot.shop.facade import Shop
from voicebot.store import outbox
from voicebot.store.clock import to_iso

POLL_S = 0.5


def window_allows(shop: Shop, config: Config, channel: str, user: str) -> str | None:
    """Why a reply to ``user`` must wait for their next message (None when it may go now)."""
    last_in = outbox.last_inbound_at(shop.db, channel, user)
    window_start = to_iso(datetime.now(UTC) - timedelta(hours=config.wechat.window_hours))
    if last_in is None or last_in < window_start:
        return "reply window closed: waiting for the user's next message"
    if outbox.sent_since(shop.db, channel, user, last_in) >= config.wechat.window_quota:
        return f"reply quota of {config.wechat.window_quota} used: waiting for the user's next message"
    return None


class OutboxSender:
    """A background task per process; ``wake()`` after queueing makes it send without waiting."""

    def __init__(self, config: Config, db: DbThread, channels: dict[str, Channel]) -> None:
        self.config = config
        self.db = db
        self.channels = channels
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="voicebot-outbox")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.flush()
            except Exception as e:  # keep the sender alive; the row stays queued
                log_event("outbox.loop_error", logging.ERROR, error=f"{type(e).__name__}: {e}")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def flush(self) -> int:
        """Send every due row once; returns how many were sent."""
        sent = 0
        async with self._lock:
            for name, channel in self.channels.items():
                if getattr(channel, "passive_only", False):
                    continue  # replies ride on the user's next delivery instead
                for row in await self.db.run(lambda shop, n=name: outbox.due(shop.db, n)):
                    if await self.db.run(lambda shop, r=row["id"]: outbox.claim(shop.db, r)):
                        sent += await self._send(channel, row)
        return sent

    async def _send(self, channel: Channel, row: dict) -> int:
        rid, user = row["id"], row["user"]
        reason = None
        if getattr(channel, "reply_window", False):
            reason = await self.db.run(window_allows, self.config, row["channel"], user)
        if reason:
            await self.db.run(lambda shop: outbox.hold(shop.db, rid, reason))
            log_event("outbox.held", outbox_id=rid, user=user, reason=reason)
            return 0
        try:
            await channel.send(row)
        except SendError as e:
            error, hold, permanent = str(e), e.hold, not e.retryable
        else:
            await self.db.run(lambda shop: outbox.mark_sent(shop.db, rid))
            log_event("outbox.sent", outbox_id=rid, user=user, kind=row["kind"], message_id=row["message_id"])
            return 1
        if hold:
            await self.db.run(lambda shop: outbox.hold(shop.db, rid, error))
            log_event("outbox.held", outbox_id=rid, user=user, reason=error)
            return 0
        status = await self.db.run(lambda shop: outbox.mark_failed(shop.db, rid, error, permanent=permanent))
        log_event("outbox.failed", logging.WARNING, outbox_id=rid, user=user, error=error, status=status)
        return 0
