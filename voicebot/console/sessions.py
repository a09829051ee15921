"""Cookie sessions (only a hash of the token is stored) and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from voicebot.store.clock import to_iso, utc_now
from voicebot.store.db import write_tx

COOKIE = "voicebot_console"
LOGIN_COOKIE = "voicebot_console_login"  # double-submit CSRF token of the login form


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create(db: sqlite_utils.Database, user_id: int, hours: float) -> tuple[str, str]:
    """Start a session; returns ``(cookie token, csrf token)``."""
    token, csrf = new_token(), new_token()
    now = datetime.now(UTC)
    with write_tx(db):
        db.execute("DELETE FROM console_sessions WHERE expires_at < ?", (to_iso(now),))
        db.execute(
            "INSERT INTO console_sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_digest(token), user_id, csrf, to_iso(now), to_iso(now + timedelta(hours=hours))),
        )
    return token, csrf


def lookup(db: sqlite_utils.Database, token: str) -> dict[str, Any] | None:
    """The live session for a cookie token: ``{user_id, name, csrf, role}``, or None."""
    row = db.execute(
        "SELECT s.user_id, u.name, s.csrf, u.role FROM console_sessions s JOIN console_users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND s.expires_at > ?",
        (_digest(token), utc_now()),
    ).fetchone()
    return {"user_id": row[0], "name": row[1], "csrf": row[2], "role": row[3]} if row else None


def end(db: sqlite_utils.Database, token: str) -> None:
    with write_tx(db):
        db.execute("DELETE FROM console_sessions WHERE token_hash = ?", (_digest(token),))


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))
