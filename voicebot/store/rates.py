"""Rate limits shared by every service process on the store: "at most N events per key in W seconds".

Every admitted event is a row (``rate_events``); a limit counts its key's rows of the last W seconds,
exactly as the in-memory sliding windows did. :func:`admit` checks every limit and records the event under
all of them, or under none, in one write transaction, so processes behind a load balancer share one
allowance. Rows are deleted once no window can count them any more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlite_utils

from voicebot.store.db import write_tx

PRUNE_EVERY_S = 60.0
_pruned_at = 0.0


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per key within ``window_s`` seconds; ``name`` keeps limits' keys apart."""

    name: str
    limit: int
    window_s: float


def admit(db: sqlite_utils.Database, checks: list[tuple[Limit, str]], now: float | None = None) -> Limit | None:
    """Record one event under every ``(limit, key)`` unless one of them is full; the first full limit, else None."""
    global _pruned_at
    now = time.time() if now is None else now
    at_ms = int(now * 1000)
    with write_tx(db):
        for limit, key in checks:
            since = at_ms - int(limit.window_s * 1000)
            counted = db.execute("SELECT count(*) FROM rate_events WHERE key = ? AND at_ms > ?",
                                 (f"{limit.name}:{key}", since)).fetchone()[0]
            if counted >= limit.limit:
                return limit
        for limit, key in checks:
            db.execute("INSERT INTO rate_events (key, at_ms, expires_ms) VALUES (?, ?, ?)",
                       (f"{limit.name}:{key}", at_ms, at_ms + int(limit.window_s * 1000)))
        if now - _pruned_at > PRUNE_EVERY_S:
            _pruned_at = now
            db.execute("DELETE FROM rate_events WHERE expires_ms < ?", (at_ms,))
    return None
