"""Money enters the shop through one exact parser (``shop.money.to_fen``) wherever it comes from: the CLI,
the console's forms, the dialogue (typed in the web chat or spoken). 0.001 is refused, not stored as a
free product; 1e30, a 30-digit stock and int64-sized amounts get a clear error, not a 500 or a clamp;
a date filter of 0001-01-01 is a filter, not a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from console_helpers import Browserless, console_service

from voicebot.cli import main
from voicebot.dialogue import handle_turn
from voicebot.shop.errors import ShopError
from voicebot.shop.facade import Shop
from voicebot.shop.money import MoneyError, to_fen

HOSTILE = ["0.001", "0.005", "1e30", "92233720368547758.07", "9" * 30, "1" * 5000, "1000000.01", "NaN", "-0.01",
           "1e-3", Decimal("0.001"), 0.001, 1e30, float("inf")]


@pytest.mark.parametrize("amount", HOSTILE, ids=lambda a: repr(a)[:24])
def test_the_parser_refuses_what_is_not_a_price_with_a_clear_message(amount):
    with pytest.raises(MoneyError) as refused:
        to_fen(amount)
    assert isinstance(refused.value, ShopError) and isinstance(refused.value, ValueError)
    assert any(w in str(refused.value) for w in ("at most 2 decimals", "at most 1000000", "not a price", "negative"))


@pytest.mark.parametrize(("amount", "fen"), [("0.01", 1), ("1.50", 150), ("1.500", 150), ("1000000", 100_000_000),
                                             ("1E2", 10_000), (0.1 + 0.2, 30), (1 + 0.1 + 0.01, 111)])
def test_exact_amounts_still_pass(amount, fen):
    assert to_fen(amount) == fen


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)


async def test_console_price_and_stock_errors_are_400s_shown_on_the_page(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    with Shop.open(service.config) as shop:
        honey = shop.product("蜂蜜")
    url = f"/console/shop/products/{honey['id']}"
    async with Browserless(service.url) as op:
        await op.login()
        await op.get("/console/shop")
        for price, stock in [("0.001", ""), ("1e30", ""), ("92233720368547758.07", ""), ("", "9" * 30),
                             ("", "1.0001"), ("", "-1"), ("abc", "")]:
            status, html, _ = await op.post(url, {"csrf": op.csrf, "price": price, "stock": stock})
            assert status == 400, (price, stock, status)
            assert 'role="alert"' in html and "Nothing changed" in html, (price, stock)
            assert "price 0.001" not in html
        with Shop.open(service.config) as shop:
            assert shop.product("蜂蜜")["price_fen"] == honey["price_fen"] == 4500
            assert shop.product("蜂蜜")["stock"] == honey["stock"]
        status, html, _ = await op.post(url, {"csrf": op.csrf, "price": "12.50", "stock": "7"})
        assert status == 200 and "price 12.50" in html and "stock 7" in html
        with Shop.open(service.config) as shop:
            assert shop.product("蜂蜜")["price_fen"] == 1250 and shop.product("蜂蜜")["stock"] == 7
        for query in ("date_from=0001-01-01", "date_to=9999-12-31", "date_from=0001-01-01&date_to=9999-12-31",
                      "date_from=99999-01-01"):
            status, html, _ = await op.get(f"/console/?{query}")
            assert status == 200, (query, html[:300])


def test_cli_refuses_sub_fen_huge_and_overflowing_amounts(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "shop.db")
    assert runner.invoke(main, ["shop", "add", "蜂蜜", "--price", "45", "--stock", "5", "--db", db]).exit_code == 0
    for args in (["shop", "add", "核桃", "--price", "0.001", "--db", db],
                 ["shop", "add", "核桃", "--price", "1e30", "--db", db],
                 ["shop", "add", "核桃", "--price", "30", "--stock", "9" * 30, "--db", db],
                 ["shop", "set-price", "蜂蜜", "92233720368547758.07", "--db", db]):
        result = runner.invoke(main, args)
        assert result.exit_code != 0 and result.exception is None or isinstance(result.exception, SystemExit), args
        assert "Traceback" not in result.output and ("price" in result.output or "stock" in result.output), args
    listed = runner.invoke(main, ["shop", "list", "--json", "--db", db])
    assert "核桃" not in listed.output and '"price_fen": 4500' in listed.output


def test_dialogue_refuses_a_price_it_cannot_store_before_asking_and_changes_nothing(db, config):
    shop = Shop(db, config)
    shop.add_product("蜂蜜", 30, 20, "瓶")
    now = 1_800_000_000.0
    for text in ("蜂蜜改成0.001块", "蜂蜜改成两百万块", "上架核桃，一千万块，十斤", "卖了两瓶蜂蜜，一共三亿块"):
        now += 1
        r = handle_turn(shop.db, config, channel="web", user_id="boss", role="seller", lang="zh", text=text,
                        confidence=None, now=now)
        assert r.reply == "这个价钱不行，没有改。价钱最多到分，最多一百万块。", (text, r.reply)
        assert r.awaiting is None
        assert shop.product("蜂蜜")["price_fen"] == 3000 and shop.product("蜂蜜")["stock"] == 20
        assert shop.find_product("核桃") is None and shop.list_orders() == []
    now += 1
    r = handle_turn(shop.db, config, channel="web", user_id="boss", role="seller", lang="zh", text="蜂蜜改成三十二块五",
                    confidence=None, now=now)
    handle_turn(shop.db, config, channel="web", user_id="boss", role="seller", lang="zh", text="对", confidence=None,
                now=now + 1) if r.awaiting else None
    assert shop.product("蜂蜜")["price_fen"] == 3250


@pytest.fixture
def config(tmp_path):
    from voicebot.config import load_config

    return load_config(environ={}, overrides={"server": {"data_dir": str(tmp_path)}, "shop": {"sellers": ["boss"]}})


@pytest.fixture
def db(config):
    from voicebot.store.db import open_db

    db = open_db(config.db_path)
    yield db
    db.close()
