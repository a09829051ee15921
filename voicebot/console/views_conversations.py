"""The conversations page: people with their latest exchange, newest first, filtered and searched."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.console import queries
from voicebot.console.web import db_read, render, view
from voicebot.store.clock import from_iso


def when(iso: str | None, tz: str) -> str:
    """A stored UTC time as the shop's local ``YYYY-MM-DD HH:MM:SS``."""
    if not iso:
        return ""
    return from_iso(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:.2f}"


FILTERS: dict[str, Any] = {"when": when, "yuan": yuan}
PAGE = 100


def _older(request: web.Request, rows: list[dict[str, Any]]) -> str | None:
    """The link to the next page (same filters, older messages), when this page is full."""
    if len(rows) < PAGE:
        return None
    return str(request.rel_url.update_query(before=str(rows[-1]["id"])))


async def conversations(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    f = queries.Filters.from_query(request.query)
    tz, low = config.shop.timezone, config.dialogue.confirm_below_confidence
    seen = view(request)
    rows = await db_read(request, queries.conversations, seen, f, tz, low, PAGE)
    options = await db_read(request, queries.choices, seen)
    return render(request, "conversations.html", {
        "rows": rows, "f": f, "older": _older(request, rows), "options": options, "statuses": queries.STATUSES, "roles": queries.ROLES, "tz": tz,
    })
