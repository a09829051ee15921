"""Timestamps: stored as UTC ISO-8601 text of fixed width, so text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_iso(moment: datetime) -> str:
    """``2026-05-09T07:35:25.123456Z`` for an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)


def utc_now() -> str:
    """Now, as stored."""
    return to_iso(datetime.now(UTC))


def from_iso(text: str) -> datetime:
    """Parse a stored timestamp back to an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
