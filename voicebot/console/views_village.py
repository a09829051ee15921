"""The village dashboard: every shop the account sees, side by side."""

from __future__ import annotations

from aiohttp import web

from voicebot.console import charts, village
from voicebot.console.web import db_read, render, view


async def village_page(request: web.Request) -> web.Response:
    s = await db_read(request, village.village_stats, view(request))
    return render(request, "village.html", {
        **s,
        "missed_chart": charts.bars([(r["name"], [r["not_understood"]]) for r in s["not_understood"]],
                                    ["turns not understood"], "sellers not understood, this week"),
    })
