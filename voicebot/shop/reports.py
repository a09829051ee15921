"""Sales reports in the shop's own time zone, and the low-stock list.

Periods start at local midnight (today), local Monday midnight (week) or the local first of the
month (month) and run until now; the boundaries are converted to UTC to compare with stored times.
Cancelled orders do not count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from voicebot.shop.errors import InvalidValue
from voicebot.store.clock import to_iso

PERIODS = ("today", "week", "month")


def period_bounds(period: str, timezone: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(start, end) of the period containing ``now``, as aware local datetimes; end is exclusive."""
    if period not in PERIODS:
        raise InvalidValue(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    tz = ZoneInfo(timezone)
    local = (now or datetime.now(tz)).astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        start, end = midnight, midnight + timedelta(days=1)
    elif period == "week":
        start = midnight - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    else:
        start = midnight.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return start, end  # zoneinfo arithmetic is wall-clock, so DST days still start at midnight


def sales_report(
    db: sqlite_utils.Database,
    period: str = "today",
    timezone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Orders, units and revenue (fen) in the period, with a per-product breakdown (best first)."""
    start, end = period_bounds(period, timezone, now)
    bounds = (to_iso(start), to_iso(end))
    totals = db.execute(
        """SELECT count(*), coalesce(sum(total_fen), 0),
                  coalesce((SELECT sum(oi.quantity) FROM order_items oi JOIN orders o2 ON o2.id = oi.order_id
                            WHERE o2.status != 'cancelled' AND o2.created_at >= ? AND o2.created_at < ?), 0)
           FROM orders WHERE status != 'cancelled' AND created_at >= ? AND created_at < ?""",
        bounds + bounds,
    ).fetchone()
    products = list(
        db.query(
            """SELECT p.id AS product_id, p.name, p.unit, sum(oi.quantity) AS quantity,
                      sum(oi.quantity * oi.unit_price_fen) AS revenue_fen
               FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN products p ON p.id = oi.product_id
               WHERE o.status != 'cancelled' AND o.created_at >= ? AND o.created_at < ?
               GROUP BY p.id ORDER BY revenue_fen DESC, quantity DESC, p.id""",
            bounds,
        )
    )
    return {
        "period": period,
        "timezone": timezone,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "orders": totals[0],
        "quantity": totals[2],
        "revenue_fen": totals[1],
        "products": products,
    }


def low_stock(db: sqlite_utils.Database, threshold: int) -> list[dict[str, Any]]:
    """Active products with ``stock <= threshold``, emptiest first."""
    return list(
        db.query(
            "SELECT id, name, unit, stock FROM products WHERE active = 1 AND stock <= ? ORDER BY stock, id",
            (threshold,),
        )
    )
