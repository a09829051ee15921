"""Sales reports in the shop's own time zone, and the low-stock list.

Periods start at local midnight (today), local Monday midnight (week) or the local first of the
month (month) and run until now; the boundaries are converted to UTC to compare with stored times.
Only sales count (``SALE_STATUSES``); pending orders are reported apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.shop.errors import InvalidValue
from voicebot.shop.quantity import tidy
from voicebot.store.clock import to_iso
from voicebot.store.scoped import ShopDb

PERIODS = ("today", "week", "month")
# What counts as a sale, everywhere (the voice summary, ``voicebot report``, the console): orders the seller
# has confirmed, shipped or finished. A buyer's order still waiting for her is "pending", counted apart.
SALE_STATUSES = ("confirmed", "shipped", "done")
SALE_SQL = "('confirmed', 'shipped', 'done')"


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
    db: ShopDb,
    period: str = "today",
    timezone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sales (orders in ``SALE_STATUSES``): orders, units and revenue (fen) in the period, with a per-product
    breakdown (best first); buyers' orders still pending are counted apart (``pending_orders``/``pending_fen``)."""
    start, end = period_bounds(period, timezone, now)
    bounds = (to_iso(start), to_iso(end))
    totals = db.execute(
        f"""SELECT count(*), coalesce(sum(total_fen), 0),
                  coalesce((SELECT round(sum(oi.quantity), 3) FROM order_items oi JOIN orders o2 ON o2.id = oi.order_id
                            WHERE o2.shop_id = ? AND o2.status IN {SALE_SQL} AND o2.created_at >= ?
                              AND o2.created_at < ?), 0)
           FROM orders WHERE shop_id = ? AND status IN {SALE_SQL} AND created_at >= ? AND created_at < ?""",
        (db.shop_id, *bounds, db.shop_id, *bounds),
    ).fetchone()
    pending = db.execute(
        "SELECT count(*), coalesce(sum(total_fen), 0) FROM orders"
        " WHERE shop_id = ? AND status = 'pending' AND created_at >= ? AND created_at < ?",
        (db.shop_id, *bounds),
    ).fetchone()
    products = list(
        db.query(
            f"""SELECT p.id AS product_id, p.name, p.unit, round(sum(oi.quantity), 3) AS quantity,
                      sum(coalesce(oi.line_total_fen, oi.quantity * oi.unit_price_fen)) AS revenue_fen
               FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN products p ON p.id = oi.product_id
               WHERE o.shop_id = ? AND o.status IN {SALE_SQL} AND o.created_at >= ? AND o.created_at < ?
               GROUP BY p.id ORDER BY revenue_fen DESC, quantity DESC, p.id""",
            (db.shop_id, *bounds),
        )
    )
    for row in products:
        row["quantity"] = tidy(row["quantity"])
    return {
        "period": period,
        "timezone": timezone,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "orders": totals[0],
        "quantity": tidy(totals[2]),
        "revenue_fen": totals[1],
        "pending_orders": pending[0],
        "pending_fen": pending[1],
        "products": products,
    }


def low_stock(db: ShopDb, threshold: int) -> list[dict[str, Any]]:
    """Active products with ``stock <= threshold``, emptiest first."""
    return list(
        db.query(
            "SELECT id, name, unit, stock FROM products WHERE shop_id = ? AND active = 1 AND stock <= ?"
            " ORDER BY stock, id",
            (db.shop_id, threshold),
        )
    )
