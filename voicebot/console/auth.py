"""Operator accounts: names with argon2 password hashes in SQLite."""

from __future__ import annotations

import re
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx

NAME_RE = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("voicebot-console-dummy-password")


class AccountError(ValueError):
    """A name or password that cannot be used, with a message for the operator."""


def add_user(db: sqlite_utils.Database, name: str, password: str) -> dict[str, Any]:
    """Create an operator, or set a new password for an existing one; returns ``{id, name}``."""
    if not NAME_RE.match(name):
        raise AccountError("a name is 1-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    hashed = _hasher.hash(password)
    now = utc_now()
    with write_tx(db):
        db.execute(
            "INSERT INTO console_users (name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
            (name, hashed, now, now),
        )
        # a new password ends every session of the old one
        row = db.execute("SELECT id, name FROM console_users WHERE name = ?", (name,)).fetchone()
        db.execute("DELETE FROM console_sessions WHERE user_id = ?", (row[0],))
    return {"id": row[0], "name": row[1]}


def list_users(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, name, created_at FROM console_users ORDER BY name"))


def find_user(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The operator ``{id, name, password_hash}`` called ``name``, or None."""
    row = db.execute("SELECT id, name, password_hash FROM console_users WHERE name = ?", (name,)).fetchone()
    return {"id": row[0], "name": row[1], "password_hash": row[2]} if row else None


def verify(user: dict[str, Any] | None, password: str) -> dict[str, Any] | None:
    """``{id, name}`` when ``password`` is the user's, else None; costs the same for an unknown user."""
    try:
        _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return {"id": user["id"], "name": user["name"]} if user else None
