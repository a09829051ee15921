"""Webhook (timestamp, nonce) pairs seen recently, shared by every process on the database."""

from __future__ import annotations

import sqlite_utils

from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx

PREFIX = "nonce:"


def claim_nonce(
    db: sqlite_utils.Database, scope: str, timestamp: str, nonce: str, digest: str, now: float, keep_s: float
) -> bool:
    """Record the pair with its body digest; False when it was already used with another digest.

    Pairs are kept for ``keep_s`` seconds (past the timestamp window, after which the signature
    check refuses them anyway); expired ones are pruned in the same transaction.
    """
    key = f"{PREFIX}{scope}:{timestamp}:{nonce}"
    with write_tx(db):
        row = db.execute(
            "SELECT value FROM kv WHERE key = ? AND (expires_at IS NULL OR CAST(expires_at AS DOUBLE PRECISION) > ?)",
            (key, now),
        ).fetchone()
        if row is not None:
            return row[0] == digest
        if int(digest[:2], 16) < 4:  # prune on about one claim in 64: cheap, and bounds the table
            db.execute(
                "DELETE FROM kv WHERE key >= ? AND key < ? AND CAST(expires_at AS DOUBLE PRECISION) <= ?",
                (PREFIX, PREFIX[:-1] + ";", now),
            )
        db.execute(
            "INSERT INTO kv (key, value, expires_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            (key, digest, repr(now + keep_s), utc_now()),
        )
    return True
