"""The SQL both engines share, as PostgreSQL reads it.

Statements are written once in SQLite's spelling with ``?`` placeholders; :func:`to_postgres` turns one
into psycopg's: every ``%`` becomes ``%%`` (psycopg reads them even inside string literals; statements are
always run with a parameter sequence), ``?`` becomes ``%s`` and the bare column name ``user`` (a reserved
word that means ``current_user`` in PostgreSQL) becomes ``"user"``; string literals and quoted names keep
their ``?`` and ``user``. Everything else must already be SQL both engines accept (``ON CONFLICT``,
``IS DISTINCT FROM``, ``coalesce(sum(x), 0)``, ``RETURNING``).
"""

from __future__ import annotations

import functools
import re

# A quoted string or name, a ``?`` or a bare ``user`` (not part of a longer name).
_TOKEN_RE = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\?|(?<![\w."])user(?![\w"])""", re.IGNORECASE)
_INSERT_RE = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+\"?(\w+)", re.IGNORECASE)
_RETURNING_RE = re.compile(r"\bRETURNING\b", re.IGNORECASE)


def _replace(match: re.Match[str]) -> str:
    token = match.group(0)
    if token == "?":
        return "%s"
    if token.lower() == "user":
        return '"user"'
    return token


@functools.lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """``sql`` with psycopg's placeholders and the reserved ``user`` quoted."""
    return _TOKEN_RE.sub(_replace, sql.replace("%", "%%"))


@functools.lru_cache(maxsize=4096)
def insert_table(sql: str) -> str | None:
    """The table an ``INSERT`` without its own ``RETURNING`` writes to (None for anything else)."""
    match = _INSERT_RE.match(sql)
    if match is None or _RETURNING_RE.search(sql):
        return None
    return match.group(1).lower()


__all__ = ["insert_table", "to_postgres"]
