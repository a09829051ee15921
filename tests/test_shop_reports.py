"""Sales reports use the shop's local day/week/month (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from voicebot.config import load_config
from voicebot.shop import Shop
from voicebot.store.clock import to_iso

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning in Shanghai


@pytest.fixture
def shop(tmp_path):
    s = Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}}))
    s.add_product("手链", 200, 20, "条")
    s.add_product("蜂蜜", 30, 2, "瓶")
    s.add_product("耳环", 50, 10, "对")
    yield s
    s.close()


def sale_at(shop: Shop, local: datetime, product: str, quantity: int) -> dict:
    order = shop.record_sale(product, quantity)
    shop.village.execute("UPDATE orders SET created_at = ? WHERE id = ?", (to_iso(local), order["id"]))
    return order


def test_an_order_at_2330_yesterday_is_not_today(shop):
    sale_at(shop, datetime(2026, 3, 9, 23, 30, tzinfo=SHANGHAI), "手链", 1)  # 15:30 UTC on the 9th
    sale_at(shop, datetime(2026, 3, 10, 0, 10, tzinfo=SHANGHAI), "手链", 2)  # 16:10 UTC on the 9th
    sale_at(shop, datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI), "蜂蜜", 1)
    cancelled = sale_at(shop, datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI), "耳环", 1)
    shop.cancel_order(cancelled["id"])
    sale_at(shop, datetime(2026, 3, 8, 12, 0, tzinfo=SHANGHAI), "耳环", 3)  # last Sunday
    sale_at(shop, datetime(2026, 2, 28, 23, 59, tzinfo=SHANGHAI), "耳环", 1)  # last month

    today = shop.report("today", now=NOW)
    assert (today["orders"], today["quantity"], today["revenue_fen"]) == (2, 3, 2 * 20000 + 3000)
    assert today["start"] == "2026-03-10T00:00:00+08:00" and today["end"] == "2026-03-11T00:00:00+08:00"
    assert [(p["name"], p["quantity"], p["revenue_fen"]) for p in today["products"]] == [
        ("手链", 2, 40000),
        ("蜂蜜", 1, 3000),
    ]
    week = shop.report("week", now=NOW)
    assert week["start"] == "2026-03-09T00:00:00+08:00"
    assert (week["orders"], week["quantity"], week["revenue_fen"]) == (3, 4, 3 * 20000 + 3000)
    month = shop.report("month", now=NOW)
    assert month["start"] == "2026-03-01T00:00:00+08:00" and month["end"] == "2026-04-01T00:00:00+08:00"
    assert (month["orders"], month["quantity"], month["revenue_fen"]) == (4, 7, 60000 + 3000 + 15000)


def test_other_time_zone_moves_the_day_boundary(tmp_path):
    config = load_config(
        overrides={"server": {"data_dir": str(tmp_path)}, "shop": {"timezone": "Europe/London"}}
    )
    with Shop.open(config) as shop:
        shop.add_product("honey", 30, 5)
        sale_at(shop, datetime(2026, 3, 9, 23, 30, tzinfo=SHANGHAI), "honey", 1)  # 15:30 in London, the 9th
        assert (
            shop.report("today", now=datetime(2026, 3, 9, 20, 0, tzinfo=ZoneInfo("Europe/London")))["orders"]
            == 1
        )
        assert shop.report("today", now=NOW)["orders"] == 0


def test_low_stock_uses_the_configured_threshold(shop):
    shop.adjust_stock("耳环", -7)
    assert [(p["name"], p["stock"]) for p in shop.low_stock()] == [("蜂蜜", 2), ("耳环", 3)]
    shop.remove_product("蜂蜜")
    assert [p["name"] for p in shop.low_stock()] == ["耳环"]
