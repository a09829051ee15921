"""A shop's WeChat QR code: qrcode/create (emulated faithfully), the API client, the PNG, and the scan
events a follower's scan sends back."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

from voicebot.channels.wechat.api import WechatApi, WechatApiError
from voicebot.channels.wechat.messages import parse_message
from voicebot.channels.wechat.qrcode import describe_error, shop_qr_png, shop_qrcode
from voicebot.config import WechatConfig
from voicebot.store.db import open_db
from voicebot.store.kv import kv_get
from voicebot.testing.wechat_client import WechatClient
from voicebot.testing.wechat_emulator import Clock, WechatEmulator

CREATE = "/cgi-bin/qrcode/create"


@pytest.fixture
async def wx(aiohttp_client):
    emulator = WechatEmulator(clock=Clock(1_714_000_000))
    http = await aiohttp_client(emulator.app)
    token = (await (await http.get("/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": emulator.account.app_id,
        "secret": emulator.account.app_secret})).json())["access_token"]
    return emulator, http, token


async def create(http, token, body):
    resp = await http.post(CREATE, params={"access_token": token}, json=body)
    assert resp.status == 200
    return await resp.json()


def permanent(scene_str):
    return {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene_str}}}


def decode_qr(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


async def test_permanent_code_has_ticket_and_url_but_no_expiry_and_is_made_once(wx):
    emulator, http, token = wx
    first = await create(http, token, permanent("guo"))
    assert set(first) == {"ticket", "url"}  # a permanent code: no expire_seconds
    assert first["url"].startswith("http://weixin.qq.com/q/")
    again = await create(http, token, permanent("guo"))
    assert again == first  # the same scene gives the same code; it is not counted twice
    other = await create(http, token, permanent("zhang"))
    assert other["ticket"] != first["ticket"] and other["url"] != first["url"]
    numeric = await create(http, token, {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 7}}})
    assert set(numeric) == {"ticket", "url"}


async def test_temporary_code_expires_and_its_expiry_is_capped(wx):
    emulator, http, token = wx
    body = {"action_name": "QR_STR_SCENE", "expire_seconds": 10 * 2_592_000,
            "action_info": {"scene": {"scene_str": "guo"}}}
    temp = await create(http, token, body)
    assert temp["expire_seconds"] == 2_592_000
    default = await create(http, token, {"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 5}}})
    assert default["expire_seconds"] == 60
    assert emulator.qr_scan(default["url"], "oA")[1] == "qrscene_5"
    emulator.clock.advance(61)
    with pytest.raises(ValueError, match="expired"):
        emulator.qr_scan(default["url"], "oA")
    assert (await http.get("/cgi-bin/showqrcode", params={"ticket": default["ticket"]})).status == 404


@pytest.mark.parametrize(("body", "errcode"), [
    ({"action_name": "QR_LIMIT_STR", "action_info": {"scene": {"scene_str": "a"}}}, 40052),
    ({"action_info": {"scene": {"scene_str": "a"}}}, 40052),
    (permanent(""), 40053),
    (permanent("x" * 65), 40053),
    (permanent(12), 40053),
    ({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_id": 3}}}, 40053),
    ({"action_name": "QR_LIMIT_STR_SCENE", "action_info": "guo"}, 40053),
    ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_001}}}, 40053),
    ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 0}}}, 40053),
    ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": True}}}, 40053),
    ({"action_name": "QR_SCENE", "expire_seconds": "30", "action_info": {"scene": {"scene_id": 1}}}, 47001),
    (["QR_LIMIT_STR_SCENE"], 47001),
])
async def test_bad_create_requests_get_wechats_errcodes(wx, body, errcode):
    emulator, http, token = wx
    result = await create(http, token, body)
    assert result["errcode"] == errcode and "rid:" in result["errmsg"]
    assert emulator.qrcodes == {}


async def test_create_needs_a_token_permission_and_room(wx):
    emulator, http, token = wx
    assert (await (await http.post(CREATE, json=permanent("a"))).json())["errcode"] == 41001
    assert (await create(http, "forged", permanent("a")))["errcode"] == 40001
    emulator.account.qrcodes = False
    assert (await create(http, token, permanent("a")))["errcode"] == 48001
    emulator.account.qrcodes = True
    emulator.account.max_permanent_qrcodes = 1
    assert "ticket" in await create(http, token, permanent("a"))
    assert "ticket" in await create(http, token, permanent("a"))  # the same code again is no new code
    assert (await create(http, token, permanent("b")))["errcode"] == 45029
    bad = await http.post(CREATE, params={"access_token": token}, data=b"{not json")
    assert (await bad.json())["errcode"] == 47001


async def test_showqrcode_serves_an_image_of_the_codes_url(wx):
    import io

    emulator, http, token = wx
    made = await create(http, token, permanent("guo"))
    assert "+" in made["ticket"] or "/" in made["ticket"] or "=" in made["ticket"]  # must be URL-encoded
    resp = await http.get("/cgi-bin/showqrcode", params={"ticket": made["ticket"]})
    assert resp.status == 200
    assert decode_qr(Image.open(io.BytesIO(await resp.read()))) == [made["url"]]
    assert (await http.get("/cgi-bin/showqrcode", params={"ticket": "nope"})).status == 404


def config_for(emulator: WechatEmulator, url: str) -> WechatConfig:
    return WechatConfig(enabled=True, token="t", app_id=emulator.account.app_id,
                        app_secret=emulator.account.app_secret, api_base=url)


@pytest.fixture
async def served(aiohttp_server):
    emulator = WechatEmulator()
    server = await aiohttp_server(emulator.app)
    return emulator, str(server.make_url("")).rstrip("/")


async def test_shop_qr_png_draws_the_code_a_scan_of_which_names_the_shop(served, tmp_path):
    emulator, url = served
    db = open_db(tmp_path / "shop.db")
    png = tmp_path / "qr" / "guo.png"
    qr = await shop_qr_png(config_for(emulator, url), "guo-01", png, db=db)
    assert qr.scene == "guo-01" and qr.expire_seconds is None
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert decode_qr(image) == [qr.url]  # the drawn code is WeChat's own code for the shop
    assert qr.image_url.startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=")
    assert "+" not in qr.image_url.split("ticket=")[1] and "/" not in qr.image_url.split("ticket=")[1]

    # Asking again (another run of the CLI) reuses the code and the token kept in the database.
    again = await shop_qr_png(config_for(emulator, url), "GUO-01", tmp_path / "again.png", db=db)
    assert (again.ticket, again.url) == (qr.ticket, qr.url)
    assert emulator.calls_to(CREATE) == 1 and emulator.calls_to("/cgi-bin/token") == 1
    assert kv_get(db, f"wechat:access_token:{emulator.account.app_id}") is not None

    # A new follower's scan subscribes with qrscene_<code>; a follower's scan is SCAN with the code.
    new = parse_message(WechatClient("http://x", "t", emulator=emulator).user("oNew").event(
        *emulator.qr_scan(qr.url, "oNew")).xml)
    assert (new.event, new.event_key, new.qr_scene) == ("subscribe", "qrscene_guo-01", "guo-01")
    emulator.user_message("oNew")
    follower = parse_message(WechatClient("http://x", "t", emulator=emulator).user("oNew").event(
        *emulator.qr_scan(qr.ticket, "oNew")).xml)
    assert (follower.event, follower.event_key, follower.qr_scene) == ("scan", "guo-01", "guo-01")


async def test_api_refreshes_a_rejected_token_once_and_reports_refusals(served):
    emulator, url = served
    async with WechatApi(config_for(emulator, url)) as api:
        emulator.fail_next(40001, path=CREATE)
        qr = await shop_qrcode(api, "zhang")
        assert qr.url.startswith("http://weixin.qq.com/q/") and api.token_fetches == 2
        emulator.account.qrcodes = False
        with pytest.raises(WechatApiError) as refused:
            await shop_qrcode(api, "li")
        assert refused.value.errcode == 48001 and not refused.value.retryable
        assert "verified service accounts" in describe_error(refused.value)
        for bad in ("", "x" * 65, "郭姐", "a b", "../etc", "a\nb"):
            with pytest.raises(ValueError):
                await shop_qrcode(api, bad)
    assert emulator.calls_to(CREATE) == 3  # the bad scenes never reached WeChat


async def test_qr_needs_the_accounts_credentials(tmp_path):
    with pytest.raises(ValueError, match="app_id"):
        await shop_qr_png(WechatConfig(), "guo", tmp_path / "x.png")


async def test_scan_events_are_delivered_encrypted_like_messages(served, aiohttp_server):
    """The test client's subscribe/SCAN events go through the same signing and encryption as messages."""
    from aiohttp import web

    from voicebot.channels.wechat.webhook import WechatWebhook

    emulator, _ = served
    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    seen = []

    async def on_message(msg, mode, encoder):
        seen.append((msg, mode))

    hook = WechatWebhook(WechatConfig(token="t", app_id=emulator.account.app_id, encoding_aes_key=key), on_message)
    app = web.Application()
    app.add_routes(hook.routes("/wechat"))
    server = await aiohttp_server(app)
    async with WechatClient(str(server.make_url("/wechat")), "t", app_id=emulator.account.app_id, mode="safe",
                            encoding_aes_key=key, emulator=emulator) as wx:
        user = wx.user()
        subscribed = await user.subscribe("guo", ticket="T1")
        scanned = await user.scan("zhang")
    assert subscribed.status == scanned.status == 200
    assert b"qrscene_guo" not in subscribed.prepared.body and b"zhang" not in scanned.prepared.body
    assert [(m.event, m.event_key, m.qr_scene, mode) for m, mode in seen] == [
        ("subscribe", "qrscene_guo", "guo", "aes"), ("scan", "zhang", "zhang", "aes")]
