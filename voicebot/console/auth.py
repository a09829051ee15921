"""Operator accounts: names with argon2 password hashes in SQLite."""

from __future__ import annotations

import re
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from voicebot.console.access import ADMIN, HELPER, ROLES, Access
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx

NAME_RE = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("voicebot-console-dummy-password")


class AccountError(ValueError):
    """A name or password that cannot be used, with a message for the operator."""


def add_user(db: sqlite_utils.Database, name: str, password: str, *, role: str | None = None,
             shop_ids: list[int] | None = None) -> dict[str, Any]:
    """Create an operator, or set a new password for an existing one; returns ``{id, name, role}``.

    ``role`` (``admin`` or ``helper``) is set when given (a new account without one is an admin);
    ``shop_ids`` replace a helper's shops when given."""
    if not NAME_RE.match(name):
        raise AccountError("a name is 1-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if role is not None and role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}")
    hashed = _hasher.hash(password)
    now = utc_now()
    with write_tx(db):
        db.execute(
            "INSERT INTO console_users (name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
            (name, hashed, role or ADMIN, now, now),
        )
        row = db.execute("SELECT id, name FROM console_users WHERE name = ?", (name,)).fetchone()
        if role is not None:
            db.execute("UPDATE console_users SET role = ? WHERE id = ?", (role, row[0]))
        if shop_ids is not None:
            db.execute("DELETE FROM console_user_shops WHERE user_id = ?", (row[0],))
            for shop_id in dict.fromkeys(shop_ids):
                db.execute("INSERT INTO console_user_shops (user_id, shop_id) VALUES (?, ?)", (row[0], shop_id))
        # a new password (or a new set of shops) ends every session of the old one
        db.execute("DELETE FROM console_sessions WHERE user_id = ?", (row[0],))
        final = db.execute("SELECT role FROM console_users WHERE id = ?", (row[0],)).fetchone()[0]
    return {"id": row[0], "name": row[1], "role": final}


def list_users(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every operator with her role and, for a helper, the names of her shops."""
    rows = list(db.query("SELECT id, name, role, created_at FROM console_users ORDER BY name"))
    for r in rows:
        r["shops"] = [s["name"] for s in _helper_shops(db, r["id"])] if r["role"] == HELPER else ["every shop"]
    return rows


def _helper_shops(db: sqlite_utils.Database, user_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT s.id, s.name FROM console_user_shops u JOIN shops s ON s.id = u.shop_id"
        " WHERE u.user_id = ? AND s.removed_at IS NULL ORDER BY s.id", (user_id,)))


def access_of(db: sqlite_utils.Database, user_id: int, name: str, role: str) -> Access:
    """What an account sees: an admin every shop (removed ones too: their history stays), a helper hers."""
    if role == ADMIN:
        shops = list(db.query("SELECT id, name, removed_at FROM shops ORDER BY removed_at IS NOT NULL, id"))
        names = {s["id"]: s["name"] + (" (removed)" if s["removed_at"] else "") for s in shops}
        return Access(user_id, name, role, names, closed=frozenset(s["id"] for s in shops if s["removed_at"]))
    # an unknown role sees nothing rather than everything
    names = {s["id"]: s["name"] for s in _helper_shops(db, user_id)} if role == HELPER else {}
    return Access(user_id, name, role, names)


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
