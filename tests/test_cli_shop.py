"""The CLI twins over a real database file, including the documented --json shapes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from PIL import Image

from voicebot.cli.shop import COMMANDS, export, orders, report, shop
from voicebot.shop import Shop
from voicebot.store import open_db

PRODUCT_KEYS = {
    "id",
    "name",
    "unit",
    "price",
    "price_fen",
    "stock",
    "active",
    "photo_count",
    "cover_photo_id",
}
PRODUCT_KEYS |= {"created_at", "updated_at"}
ORDER_KEYS = {"id", "status", "created_by", "customer_id", "customer_name", "total", "total_fen"}
ORDER_KEYS |= {"created_at", "updated_at", "items"}
ORDER_KEYS |= {"number"}  # issue 21: the shop's own order number (what ship/cancel take), beside the id
ITEM_KEYS = {"product_id", "name", "unit", "quantity", "unit_price", "unit_price_fen"}
ITEM_KEYS |= {"line_total", "line_total_fen"}  # issue 18: a total said for the line, kept exactly
REPORT_KEYS = {
    "period",
    "timezone",
    "start",
    "end",
    "orders",
    "quantity",
    "revenue",
    "revenue_fen",
    "products",
}
REPORT_KEYS |= {"low_stock_threshold", "low_stock"}
REPORT_KEYS |= {"sales_statuses", "pending_orders", "pending", "pending_fen"}  # issue 18: keys only added


@pytest.fixture
def run(tmp_path):
    db = str(tmp_path / "shop.db")
    runner = CliRunner()

    def invoke(command, *args: str, ok: bool = True):
        result = runner.invoke(command, [*args, "--db", db])
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.output) if "--json" in args and ok else result.output

    invoke.db = db
    return invoke


def _leaves(command: click.Command):
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _leaves(sub)
    else:
        yield command


def test_commands_are_registered_and_every_one_has_an_example():
    assert [c.name for c in COMMANDS] == ["shop", "orders", "report", "export"]
    leaves = [c for group in COMMANDS for c in _leaves(group)]
    assert len(leaves) >= 13
    for command in leaves:
        assert "Example:" in (command.help or ""), command.name
        assert {"config_path", "db_path"} <= {p.name for p in command.params}, command.name


def test_catalog_commands_and_json_shape(run):
    added = run(shop, "add", "绿松石手链", "--price", "99.99", "--stock", "10", "--unit", "条", "--json")
    assert set(added["product"]) == PRODUCT_KEYS
    assert (added["product"]["price"], added["product"]["price_fen"], added["product"]["active"]) == (
        99.99,
        9999,
        True,
    )
    assert "added" in run(shop, "add", "蜂蜜", "--price", "30", "--stock", "4", "--unit", "瓶")
    run(shop, "set-price", "蜂蜜", "1.5")
    run(shop, "stock", "蜂蜜", "+5")
    assert run(shop, "stock", "蜂蜜", "-2", "--json")["product"]["stock"] == 7
    assert "only 7 left" in run(shop, "stock", "蜂蜜", "-8", ok=False)
    assert "not a number" in run(shop, "stock", "蜂蜜", "lots", ok=False)
    assert "already exists" in run(shop, "add", "蜂蜜", "--price", "1", ok=False)
    assert "not a price" in run(shop, "add", "茶叶", "--price", "cheap", ok=False)
    listed = run(shop, "list", "--json")["products"]
    assert [(p["name"], p["price"], p["price_fen"], p["stock"]) for p in listed] == [
        ("绿松石手链", 99.99, 9999, 10),
        ("蜂蜜", 1.5, 150, 7),
    ]
    assert "stock 7瓶" in run(shop, "list")
    assert "stock of 蜂蜜 back to 9" in run(shop, "undo")


def test_photo_and_seller_commands(run, tmp_path):
    run(shop, "add", "手链", "--price", "200", "--stock", "1")
    picture = tmp_path / "p.png"
    Image.new("RGB", (64, 48), "red").save(picture)
    photo = run(shop, "photo", "手链", str(picture), "--json")["photo"]
    assert set(photo) == {"id", "sha256", "path", "thumb_path", "width", "height", "bytes", "position"}
    assert (photo["width"], photo["height"], photo["position"]) == (64, 48, 0)
    assert Path(photo["path"]).parent == tmp_path / "photos"  # --db moves the photos with it
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert "not a photo" in run(shop, "photo", "手链", str(notes), ok=False)
    assert run(shop, "list", "--json")["products"][0]["cover_photo_id"] == photo["id"]
    seller = run(shop, "seller", "add", "oAbC_openid", "--json")["seller"]
    assert set(seller) == {"customer_id", "channel", "channel_user_id"}
    assert seller["channel"] == "wechat"
    from voicebot.store.scoped import ShopDb

    db = ShopDb(open_db(run.db), 1)
    from voicebot.shop.customers import is_seller

    assert is_seller(db, "wechat", "oAbC_openid")
    db.close()


def test_orders_report_and_export(run, tmp_path):
    run(shop, "add", "手链", "--price", "200", "--stock", "5", "--unit", "条")
    from voicebot.config import load_config

    with Shop(open_db(run.db), load_config()) as s:
        buyer = s.customer("wechat", "buyer-1", display_name="Li")
        order = s.place_order("手链", 2, buyer["id"])
        s.record_sale("手链", 3, customer="张三", price="180")
        s.record_inbound("wechat", "m1", "buyer-1", "voice", transcript="我要两条手链")

    listed = run(orders, "list", "--json")["orders"]
    assert [o["status"] for o in listed] == ["confirmed", "pending"]
    assert set(listed[0]) == ORDER_KEYS and set(listed[0]["items"][0]) == ITEM_KEYS
    assert (listed[0]["total"], listed[0]["total_fen"], listed[0]["customer_name"]) == (540, 54000, "张三")
    assert [o["id"] for o in run(orders, "list", "--status", "pending", "--today", "--json")["orders"]] == [
        order["id"]
    ]
    shipped = run(orders, "ship", str(order["id"]), "--json")["order"]
    assert shipped["status"] == "shipped"
    assert "cannot become shipped" in run(orders, "ship", str(order["id"]), ok=False)

    r = run(report, "--period", "today", "--json")
    assert set(r) == REPORT_KEYS
    assert (r["orders"], r["quantity"], r["revenue"], r["revenue_fen"]) == (2, 5, 940, 94000)
    assert r["low_stock"] == [{"id": 1, "name": "手链", "unit": "条", "stock": 0}]
    assert "2 orders, 5 items, ¥940" in run(report)
    assert (r["sales_statuses"], r["pending_orders"], r["pending_fen"]) == (["confirmed", "shipped", "done"], 0, 0)

    out = tmp_path / "export"
    files = run(export, "--out", str(out), "--json")["files"]
    assert {k: v["rows"] for k, v in files.items()} == {"products": 1, "orders": 2, "messages": 1}
    rows = list(csv.DictReader(io.StringIO((out / "orders.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["product_name"], r["quantity"], r["unit_price_yuan"]) for r in rows] == [
        ("手链", "2", "200.00"),
        ("手链", "3", "180.00"),
    ]
    messages = list(csv.DictReader(io.StringIO((out / "messages.csv").read_text(encoding="utf-8-sig"))))
    assert messages[0]["transcript"] == "我要两条手链"


@pytest.mark.sqlite_only  # a broken SQLite file (tests/test_cli_postgres.py: an unreachable PostgreSQL)
def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("not sqlite " * 100)
    result = CliRunner().invoke(shop, ["list", "--db", str(bad)])
    assert result.exit_code == 1 and "database: file is not a database" in result.output


def test_chat_as_a_seller_needs_a_seller_or_an_explicit_flag(tmp_path):
    """Issue 18 item 14: ``chat --role seller --user X`` never makes X a seller silently."""
    from voicebot.cli.dialogue import chat
    from voicebot.config import load_config

    db = str(tmp_path / "shop.db")
    runner = CliRunner()
    refused = runner.invoke(chat, ["--role", "seller", "--user", "x1", "--db", db, "今天卖了多少"])
    assert refused.exit_code == 2 and "not a seller" in refused.output
    with Shop(open_db(db), load_config()) as s:
        assert not s.is_seller("console", "x1")
    ok = runner.invoke(chat, ["--role", "seller", "--user", "x1", "--new-seller", "--db", db, "今天卖了多少"])
    assert ok.exit_code == 0 and "还没有卖出" in ok.output
    again = runner.invoke(chat, ["--role", "seller", "--user", "x1", "--db", db, "今天卖了多少"])
    assert again.exit_code == 0
    with Shop(open_db(db), load_config()) as s:
        assert s.is_seller("console", "x1")
    buyer = runner.invoke(chat, ["--role", "buyer", "--user", "b9", "--db", db, "有什么卖的"])
    assert buyer.exit_code == 0


def test_goods_sold_by_weight_have_decimal_stock_in_the_cli(run):
    """Issue 18 item 3: --stock 2.5 and a change of -0.5 are kept exactly; JSON shows 2.5 and then 2."""
    assert run(shop, "add", "核桃", "--price", "30", "--stock", "2.5", "--unit", "斤", "--json")["product"]["stock"] == 2.5
    assert run(shop, "stock", "核桃", "+0.1", "--json")["product"]["stock"] == 2.6
    assert run(shop, "stock", "核桃", "+0.2", "--json")["product"]["stock"] == 2.8
    assert run(shop, "stock", "核桃", "-0.8", "--json")["product"]["stock"] == 2
    assert "at most three decimals" in run(shop, "stock", "核桃", "0.0001", ok=False)
    from voicebot.config import load_config

    with Shop(open_db(run.db), load_config()) as s:
        s.record_sale("核桃", 1.5)
    order = run(orders, "list", "--json")["orders"][0]
    assert order["items"][0]["quantity"] == 1.5 and order["total_fen"] == 4500
    r = run(report, "--json")
    assert (r["quantity"], r["revenue_fen"]) == (1.5, 4500)
