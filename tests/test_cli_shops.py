"""``voicebot shops``: a village's shops from the command line, and ``--shop`` on the shop commands."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner
from PIL import Image

from voicebot.cli import main
from voicebot.testing.wechat_emulator import WechatEmulator


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "village.db"

    def run(*args: str, ok: bool = True, config: str | None = None):
        extra = ["--db", str(db)] + (["--config", config] if config else [])
        result = CliRunner().invoke(main, [*args, *extra])
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.output) if "--json" in args and ok else result.output

    return run


def test_a_village_of_shops_from_the_command_line(run):
    (first,) = run("shops", "list", "--json")["shops"]
    assert first["id"] == 1 and len(first["code"]) == 6  # the embedded default: one shop
    run("shop", "add", "土蜂蜜", "--price", "50", "--stock", "10", "--unit", "斤")  # one shop: --shop not needed

    feng = run("shops", "add", "老冯蜂蜜", "--seller", "oFeng1", "--seller", "oFeng2", "--code", "Feng",
               "--lang", "zh", "--json")["shop"]
    assert feng["code"] == "feng" and feng["sellers"] == ["wechat:oFeng1", "wechat:oFeng2"]
    several = run("shop", "list", ok=False)
    assert "there are 2 shops" in several and "老冯蜂蜜 [feng]" in several  # the error names them

    run("shop", "add", "土蜂蜜", "--price", "80", "--stock", "3", "--shop", "feng")  # same name, other shop
    assert [p["price"] for p in run("shop", "list", "--shop", "老冯蜂蜜", "--json")["products"]] == [80]
    assert [p["price"] for p in run("shop", "list", "--shop", first["code"], "--json")["products"]] == [50]
    run("orders", "list", "--shop", "nowhere", ok=False)

    listed = {s["code"]: s for s in run("shops", "list", "--json")["shops"]}
    assert listed["feng"]["products"] == 1 and listed[first["code"]]["products"] == 1

    run("shops", "add", "老冯蜂蜜", ok=False)  # names are unique
    run("shops", "add", "x", "--code", "../etc", ok=False)
    run("shops", "add", "y", "--timezone", "Mars/Base", ok=False)
    assert run("shops", "rename", "feng", "冯姐蜂蜜", "--json")["shop"]["name"] == "冯姐蜂蜜"
    assert run("shops", "remove", "冯姐蜂蜜", "--json")["shop"]["code"] == "feng"
    assert [s["id"] for s in run("shops", "list", "--json")["shops"]] == [1]
    run("shops", "remove", first["code"], ok=False)  # the last shop stays
    assert [p["price"] for p in run("shop", "list", "--json")["products"]] == [50]


async def test_shops_qr_draws_the_permanent_code_of_the_shop(run, tmp_path, aiohttp_server):
    emulator = WechatEmulator()
    server = await aiohttp_server(emulator.app)
    config = tmp_path / "voicebot.toml"
    config.write_text(
        f'[wechat]\nenabled = true\ntoken = "t"\napp_id = "{emulator.account.app_id}"\n'
        f'app_secret = "{emulator.account.app_secret}"\napi_base = "{str(server.make_url("")).rstrip("/")}"\n',
        encoding="utf-8")
    await asyncio.to_thread(run, "shops", "add", "老冯蜂蜜", "--code", "feng", config=str(config))
    png = tmp_path / "feng.png"
    out = await asyncio.to_thread(run, "shops", "qr", "老冯蜂蜜", "--png", str(png), "--json", config=str(config))
    assert out["qr"]["code"] == "feng" and out["qr"]["url"].startswith("http://weixin.qq.com/q/")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 100
    assert emulator.qr_scan(out["qr"]["url"], "oNew")[1] == "qrscene_feng"  # a scan lands in that shop
    again = await asyncio.to_thread(run, "shops", "qr", "feng", "--png", str(png), "--json", config=str(config))
    assert again["qr"]["url"] == out["qr"]["url"]  # made once, then reused
    emulator.account.qrcodes = False
    refused = await asyncio.to_thread(run, "shops", "qr", "feng", "--fresh", ok=False, config=str(config))
    assert "verified service accounts" in refused
    no_account = await asyncio.to_thread(run, "shops", "qr", "feng", ok=False)
    assert "app_id" in no_account
