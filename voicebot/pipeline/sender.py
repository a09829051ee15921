"""The outbox sender: delivers queued replies through their channel, once each, with backoff.

When a reply may go, how often an unanswered send is repeated and how long a failing one is retried
are the channel's rules (its ``policy``); the sender only applies them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Channel, SendError
from voicebot.waiting import wait_event

POLL_S = 0.5


def utc_clock() -> datetime:
    return datetime.now(UTC)


class OutboxSender:
    """A background task per process; ``wake()`` after queueing makes it send without waiting."""

    def __init__(self, config: Config, db: DbThread, channels: dict[str, Channel],
                 clock: Callable[[], datetime] = utc_clock) -> None:
        self.config = config
        self.db = db
        self.channels = channels
        self.clock = clock  # injectable, so tests can let hours of backoff pass at once
        self.lease_s = config.server.claim_lease_s  # a claimed row is ours this long (then another sender's)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="voicebot-outbox")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def flush_before_exit(self, budget_s: float) -> None:
        """Send what is due, but give up after ``budget_s``: what is left stays queued for the next start
        (a send cut off mid-call is treated as of unknown outcome then)."""
        try:
            await asyncio.wait_for(self.flush(), budget_s)
        except TimeoutError:
            log_event("outbox.shutdown_flush_cut", logging.WARNING, budget_s=budget_s)

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.flush()
            except Exception as e:  # keep the sender alive; the row stays queued
                log_event("outbox.loop_error", logging.ERROR, error=f"{type(e).__name__}: {e}")
            self._wake.clear()
            await wait_event(self._wake, POLL_S)

    async def flush(self) -> int:
        """Send every due row once; returns how many were sent."""
        sent = 0
        async with self._lock:
            for name, channel in self.channels.items():
                if channel.policy.passive_only:
                    continue  # replies ride on the user's next delivery instead
                now = self.clock()
                # a channel whose users are connected to one process (browser chats) names them: another
                # process's users' replies are that process's to send
                local = getattr(channel, "recipients", None)
                users = local() if local is not None else None
                if users is not None and not users:
                    continue
                for row in await self.db.run(lambda shop, n=name, t=now, u=users: shop.outbox.due(n, now=t, users=u)):
                    if await self.db.run(lambda shop, r=row["id"], t=now: shop.outbox.claim(r, t, self.lease_s)):
                        sent += await self._send(channel, row)
        return sent

    async def _send(self, channel: Channel, row: dict) -> int:
        rid, user = row["id"], row["user"]
        policy = channel.policy
        if row.get("attempt_started_at"):  # an earlier attempt never reported back (the process died)
            status = await self.db.run(lambda shop: shop.outbox.mark_ambiguous(
                rid, "the sending process stopped during the send",
                resend_limit=policy.resend_ambiguous, now=self.clock(), max_age_s=policy.max_age_s))
            log_event("outbox.ambiguous", logging.WARNING, outbox_id=rid, user=user, status=status,
                      reason="interrupted send")
            if status != "pending":
                return 0
            await self.db.run(lambda shop: shop.outbox.claim(rid, self.clock(), self.lease_s))
        reason = await self.db.run(
            lambda shop: policy.hold_reason(shop.outbox, row["channel"], user, self.clock()))
        if reason:
            await self.db.run(lambda shop: shop.outbox.hold(rid, reason))
            log_event("outbox.held", outbox_id=rid, user=user, reason=reason)
            return 0
        await self.db.run(lambda shop: shop.outbox.start_attempt(rid, now=self.clock()))
        try:
            await channel.send(row)
        except SendError as e:
            error, hold, permanent, ambiguous = str(e), e.hold, not e.retryable, e.ambiguous
        else:
            await self.db.run(lambda shop: shop.outbox.mark_sent(rid))
            log_event("outbox.sent", outbox_id=rid, user=user, kind=row["kind"], message_id=row["message_id"])
            return 1
        if ambiguous:
            status = await self.db.run(lambda shop: shop.outbox.mark_ambiguous(
                rid, error, resend_limit=policy.resend_ambiguous, now=self.clock(), max_age_s=policy.max_age_s))
            log_event("outbox.ambiguous", logging.WARNING, outbox_id=rid, user=user, error=error,
                      status=status)
            return 0
        if hold:
            await self.db.run(lambda shop: shop.outbox.hold(rid, error))
            log_event("outbox.held", outbox_id=rid, user=user, reason=error)
            return 0
        status = await self.db.run(lambda shop: shop.outbox.mark_failed(
            rid, error, permanent=permanent, now=self.clock(), max_age_s=policy.max_age_s))
        log_event("outbox.failed", logging.WARNING, outbox_id=rid, user=user, error=error, status=status)
        return 0
