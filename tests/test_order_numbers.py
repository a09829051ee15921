"""Orders are numbered per shop: the number a seller or buyer hears and says is her shop's (一号订单), never
the village-wide id; old numbers keep meaning the same orders; concurrent orders never share a number."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.cli import main
from voicebot.config import load_config
from voicebot.dialogue import handle_turn
from voicebot.dialogue.expiry import expire_orders
from voicebot.shop import shops
from voicebot.shop.facade import Shop
from voicebot.store import open_db

FIXTURE = Path(__file__).parent / "data" / "fixtures" / "single_shop_v9.sqlite"
T0 = 1_800_000_000
CTX = mp.get_context("fork")


def _config(data_dir: Path | str, **shop: object):
    return load_config(environ={}, overrides={
        "server": {"data_dir": str(data_dir)},
        "shop": {"name": "郭姐绿松石", "sellers": ["o-guo"], **shop},
        # buyers here order again and again: the per-buyer cap on pending orders is not under test
        "dialogue": {"max_pending_orders": 0, "max_pending_units": 0},
    })


@pytest.fixture
def village(tmp_path):
    with Shop.open(_config(tmp_path)) as guo:
        feng = guo.other(shops.add_shop(guo.village, "老冯蜂蜜", code="feng")["id"])
        feng.add_seller("o-feng")
        guo.add_product("土蜂蜜", 50, 20, "斤")
        feng.add_product("土蜂蜜", 80, 20, "斤")
        yield guo, feng


class Talk:
    """Turns in one shop; the speaker is a seller of that shop or a buyer."""

    def __init__(self, shop: Shop) -> None:
        self.shop, self.t = shop, T0

    def __call__(self, user: str, text: str):
        self.t += 10
        role = "seller" if self.shop.is_seller("wechat", user) else "buyer"
        return handle_turn(self.shop.db, self.shop.config, channel="wechat", user_id=user, role=role, lang="zh",
                           text=text, confidence=None, now=self.t)


def _heard_by(result, user: str) -> list[str]:
    return [text for _, to, text in result.notify if to == user]


def _numbers(shop: Shop) -> list[tuple[int, str]]:
    return sorted((o["number"], o["status"]) for o in shop.list_orders())


def test_two_shops_first_orders_are_both_number_one(village):
    guo, feng = village
    at_guo, at_feng = Talk(guo), Talk(feng)

    r = at_guo("o-li", "我要两斤土蜂蜜")
    assert r.committed and "一号订单" in r.reply, r.reply
    assert any("新订单，一号" in t for t in _heard_by(r, "o-guo")), r.notify
    r = at_guo("o-wang", "我要一斤土蜂蜜")
    assert r.committed and "二号订单" in r.reply, r.reply

    r = at_feng("o-li", "我要三斤土蜂蜜")  # village id 3, but Feng's first order: 一号
    assert r.committed and "一号订单" in r.reply and "三号" not in r.reply, r.reply
    (heard,) = _heard_by(r, "o-feng")
    assert "新订单，一号" in heard, heard
    assert _heard_by(r, "o-guo") == []  # Guo never hears of Feng's order
    (order,) = feng.list_orders()
    assert (order["number"], order["id"]) == (1, 3)
    assert _numbers(guo) == [(1, "pending"), (2, "pending")]

    r = at_feng("o-li", "我的订单呢")  # the buyer hears her order by Feng's number too
    assert "三号" not in r.reply, r.reply


def test_a_sellers_number_confirms_her_own_shops_order_never_the_other_shops(village):
    guo, feng = village
    at_guo, at_feng = Talk(guo), Talk(feng)
    at_guo("o-li", "我要两斤土蜂蜜")  # Guo's 一号 (village id 1)
    at_guo("o-wang", "我要一斤土蜂蜜")  # Guo's 二号 (id 2)
    at_feng("o-zhao", "我要三斤土蜂蜜")  # Feng's 一号 (id 3)

    r = at_feng("o-feng", "三号订单确认")  # id 3 is Feng's order, but she has no order number three
    assert not r.committed and "没有三号订单" in r.reply, r.reply
    assert _numbers(feng) == [(1, "pending")]

    r = at_feng("o-feng", "一号订单确认")
    assert r.committed and "一号订单" in r.reply, r.reply
    assert any("老板确认了你的一号订单" in t for t in _heard_by(r, "o-zhao")), r.notify
    assert _numbers(feng) == [(1, "confirmed")]
    assert _numbers(guo) == [(1, "pending"), (2, "pending")]  # Guo's 一号 untouched

    r = at_guo("o-guo", "二号订单发货了")
    assert r.committed, r.reply
    assert _numbers(guo) == [(1, "pending"), (2, "shipped")]
    assert _numbers(feng) == [(1, "confirmed")]


def test_expiry_notices_say_the_shops_number(village, tmp_path):
    guo, feng = village
    Talk(guo)("o-li", "我要两斤土蜂蜜")
    Talk(feng)("o-zhao", "我要一斤土蜂蜜")  # Feng's 一号, village id 2
    later = datetime.now(UTC) + timedelta(hours=feng.config.dialogue.order_expiry_h + 1)
    notices = expire_orders(feng.db, feng.config, now=later)
    assert notices and all("一号订单" in text for _, _, text in notices), notices
    assert {to for _, to, _ in notices} == {"o-feng", "o-zhao"}


@pytest.mark.sqlite_only  # upgrades a SQLite file written before version 11
def test_the_old_file_keeps_its_numbers_and_new_orders_go_on_from_them(tmp_path):
    path = tmp_path / "shop.db"
    shutil.copy(FIXTURE, path)
    old_ids = [r[0] for r in sqlite3.connect(path).execute("SELECT id FROM orders ORDER BY id")]
    assert old_ids == [1, 2]
    config = _config(tmp_path, sellers=["o-guo-seller"])
    with Shop.open(config, path) as shop:
        assert [(o["id"], o["number"]) for o in sorted(shop.list_orders(), key=lambda o: o["id"])] == [(1, 1), (2, 2)]
        buyer = shop.customer("wechat", "o-buyer-new")
        assert shop.place_order("土蜂蜜", 1, buyer["id"])["number"] == 3
        # a number she heard before the upgrade still means the same order: 二号 is Li's pending order
        r = handle_turn(shop.db, shop.config, channel="wechat", user_id="o-guo-seller", role="seller", lang="zh",
                        text="二号订单确认", confidence=None, now=T0)
        assert r.committed, r.reply
        assert shop.get_order(2)["status"] == "confirmed" and shop.get_order(2)["customer_user"] == "o-buyer-li"

        new = shop.other(shops.add_shop(shop.village, "老冯蜂蜜", code="feng")["id"])
        new.add_product("土蜂蜜", 80, 5, "斤")
        first = new.place_order("土蜂蜜", 1, new.customer("wechat", "o-buyer-new")["id"])
        assert (first["number"], first["id"]) == (1, 4)
        with pytest.raises(sqlite3.IntegrityError):  # the database itself refuses a second 一号 in a shop
            shop.village.execute("UPDATE orders SET number = 1 WHERE id = 2")


def _order_many(data_dir: str, shop_id: int, who: str, n: int, barrier, results) -> None:
    with Shop.open(_config(data_dir)) as village:
        shop = village.other(shop_id)
        buyer = shop.customer("wechat", who)
        barrier.wait()
        results.put([shop.place_order("土蜂蜜", 1, buyer["id"])["number"] for _ in range(n)])


def test_concurrent_orders_in_one_shop_never_share_a_number(tmp_path):
    with Shop.open(_config(tmp_path)) as guo:
        guo.add_product("土蜂蜜", 50, 100, "斤")
        guo.place_order("土蜂蜜", 1, guo.customer("wechat", "o-first")["id"])  # ids run ahead of Feng's numbers
        feng = guo.other(shops.add_shop(guo.village, "老冯蜂蜜", code="feng")["id"])
        feng.add_product("土蜂蜜", 80, 100, "斤")
        feng_id = feng.shop_id
    barrier, results = CTX.Barrier(2), CTX.Queue()
    procs = [CTX.Process(target=_order_many, args=(str(tmp_path), feng_id, f"buyer-{k}", 15, barrier, results))
             for k in range(2)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sorted(got[0] + got[1]) == list(range(1, 31))  # every number once, none skipped
    with Shop.open(_config(tmp_path)) as village:
        assert sorted(o["number"] for o in village.other(feng_id).list_orders()) == list(range(1, 31))
        assert [o["number"] for o in village.list_orders()] == [1]


def test_the_cli_lists_ships_and_cancels_by_the_shops_number(tmp_path):
    db = tmp_path / "village.db"

    def run(*args: str, ok: bool = True):
        result = CliRunner().invoke(main, [*args, "--db", str(db)])
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.output) if "--json" in args and ok else result.output

    with Shop(open_db(db), load_config(environ={})) as guo:
        feng = guo.other(shops.add_shop(guo.village, "老冯蜂蜜", code="feng")["id"])
        guo.add_product("手链", 200, 5)
        feng.add_product("土蜂蜜", 80, 5)
        guo.place_order("手链", 1, guo.customer("wechat", "b1")["id"])  # Guo's 1 (id 1)
        guo.place_order("手链", 1, guo.customer("wechat", "b2")["id"])  # Guo's 2 (id 2)
        feng.place_order("土蜂蜜", 1, feng.customer("wechat", "b3")["id"])  # Feng's 1 (id 3)
        feng.place_order("土蜂蜜", 2, feng.customer("wechat", "b4")["id"])  # Feng's 2 (id 4)
        guo_code = guo.settings["code"]

    listed = run("orders", "list", "--shop", "feng", "--json")["orders"]
    assert [(o["number"], o["id"]) for o in listed] == [(2, 4), (1, 3)]  # the id stays, the number is added
    assert "#1 " in run("orders", "list", "--shop", "feng") and "#3" not in run("orders", "list", "--shop", "feng")

    shipped = run("orders", "ship", "1", "--shop", "feng", "--json")["order"]
    assert (shipped["number"], shipped["id"], shipped["status"]) == (1, 3, "shipped")
    cancelled = run("orders", "cancel", "2", "--shop", "feng", "--json")["order"]
    assert (cancelled["number"], cancelled["id"], cancelled["status"]) == (2, 4, "cancelled")
    assert "no order 3 in this shop" in run("orders", "ship", "3", "--shop", "feng", ok=False)
    assert "order 1 is shipped" in run("orders", "ship", "1", "--shop", "feng", ok=False)
    out = tmp_path / "export"
    run("export", "--out", str(out), "--shop", "feng", "--json")
    rows = list(csv.DictReader(io.StringIO((out / "orders.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["order_id"], r["order_number"]) for r in rows] == [("3", "1"), ("4", "2")]
    # Guo's orders 1 and 2 were never touched
    assert [o["status"] for o in run("orders", "list", "--shop", guo_code, "--json")["orders"]] == ["pending"] * 2
