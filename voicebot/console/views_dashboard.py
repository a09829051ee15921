"""The dashboard: messages per day, share of failed / low-confidence / undone / corrected turns, the
median and p95 time of each pipeline stage, and the failures by ``{stage}.{code}`` over the last 7 days."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.console import charts
from voicebot.console.access import Access
from voicebot.console.queries import LOW_CONFIDENCE
from voicebot.console.web import db_read, render, view
from voicebot.pipeline.failures import code_of
from voicebot.store.clock import from_iso, to_iso

DAYS = 7


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def stats(db: sqlite_utils.Database, seen: Access, tz: str, low_conf: float,
          now: datetime | None = None) -> dict[str, Any]:
    """The last 7 days of the shops in view."""
    zone = ZoneInfo(tz)
    now = now or datetime.now(UTC)
    first_day = now.astimezone(zone).date() - timedelta(days=DAYS - 1)
    since = to_iso(datetime.combine(first_day, datetime.min.time(), zone))
    rows = list(db.query(
        "SELECT m.created_at, m.status, m.error, m.timings_json,"
        f" {LOW_CONFIDENCE} AS low,"
        " (SELECT undone FROM actions a WHERE a.id = m.action_id AND a.shop_id = m.shop_id) AS undone,"
        " EXISTS (SELECT 1 FROM corrections c WHERE c.message_id = m.id AND c.shop_id = m.shop_id) AS corrected"
        " FROM messages m WHERE m.direction = 'in' AND m.created_at >= ? AND (m.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND m.shop_id IS NULL))",
        (low_conf, since, *seen.params()),
    ))
    per_day = {(first_day + timedelta(days=i)).isoformat(): 0 for i in range(DAYS)}
    stages: dict[str, list[float]] = {}
    for r in rows:
        day = from_iso(r["created_at"]).astimezone(zone).date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
        for stage, ms in json.loads(r["timings_json"] or "{}").items():
            if isinstance(ms, (int, float)):
                stages.setdefault(stage, []).append(float(ms))
    total = len(rows)

    def share(pred: Any) -> float:
        return round(100 * sum(1 for r in rows if pred(r)) / total, 1) if total else 0.0

    shares = {
        "failed": share(lambda r: r["status"] == "failed" or r["error"]),
        "low confidence": share(lambda r: r["low"]),
        "undone": share(lambda r: r["undone"]),
        "corrected": share(lambda r: r["corrected"]),
    }
    timing = {s: (round(statistics.median(v), 1), round(percentile(v, 95), 1)) for s, v in sorted(stages.items())}
    errors = Counter(code_of(r["error"]) for r in rows if r["error"]).most_common()
    return {"total": total, "per_day": per_day, "shares": shares, "timing": timing, "errors": errors}


async def dashboard(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    s = await db_read(request, stats, view(request), config.shop.timezone, config.dialogue.confirm_below_confidence)
    return render(request, "dashboard.html", {
        **s,
        "days_chart": charts.columns([(d[5:], n) for d, n in s["per_day"].items()], "messages per day"),
        "shares_chart": charts.bars([(k, [v]) for k, v in s["shares"].items()], ["% of turns"],
                                    "share of turns, last 7 days", "%"),
        "timing_chart": charts.bars([(k, list(v)) for k, v in s["timing"].items()], ["median", "p95"],
                                    "time per stage, last 7 days", " ms"),
    })
