"""The WeChat emulator checked against the protocol facts in WECHAT.md."""

import io

import pytest
from PIL import Image

from voicebot.testing.wechat_emulator import Clock, EmulatorAccount, WechatEmulator
from voicebot.testing.wechat_media import amr_duration, synth

ACCOUNT = EmulatorAccount()
CS_SEND = "/cgi-bin/message/custom/send"


@pytest.fixture(scope="module")
def audio():
    """Real audio made once: AMR-NB by sox, MP3 and WAV by ffmpeg."""
    return {
        "amr5": synth(5),
        "amr70": synth(70),
        "mp3": synth(3, "mp3"),
        "mp3_70": synth(70, "mp3"),
        "wav": synth(2, "wav"),
    }


def image_bytes(fmt: str, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
async def wx(aiohttp_client):
    emulator = WechatEmulator(clock=Clock(1_714_000_000))
    http = await aiohttp_client(emulator.app)
    return emulator, http


async def get_token(http, appid=ACCOUNT.app_id, secret=ACCOUNT.app_secret):
    resp = await http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": appid, "secret": secret})
    return await resp.json()


async def send(http, token, touser, text="你好"):
    resp = await http.post(
        CS_SEND, params={"access_token": token}, json={"touser": touser, "msgtype": "text", "text": {"content": text}}
    )
    return await resp.json()


async def upload(http, token, kind, data, filename):
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("media", data, filename=filename)
    resp = await http.post("/cgi-bin/media/upload", params={"access_token": token, "type": kind}, data=form)
    return await resp.json()


async def test_token_shape_credentials_and_errors(wx):
    emulator, http = wx
    body = await get_token(http)
    assert set(body) == {"access_token", "expires_in"} and body["expires_in"] == 7200
    assert len(body["access_token"]) > 100 and body["access_token"].replace("_", "").isalnum()
    assert (await get_token(http, appid="wx_wrong"))["errcode"] == 40013
    assert (await get_token(http, secret="nope"))["errcode"] == 40125
    bad_grant = await http.get("/cgi-bin/token", params={"grant_type": "x", "appid": ACCOUNT.app_id, "secret": ACCOUNT.app_secret})
    assert (await bad_grant.json())["errcode"] == 40002
    emulator.user_message("oA")
    assert (await send(http, "forged", "oA"))["errcode"] == 40001
    missing = await http.post(CS_SEND, json={})
    assert (await missing.json())["errcode"] == 41001


async def test_token_expiry_and_a_new_token_retires_the_old_after_five_minutes(wx):
    emulator, http = wx
    emulator.account.window_quota = 100
    emulator.user_message("oA")
    first = (await get_token(http))["access_token"]
    assert (await send(http, first, "oA"))["errcode"] == 0
    second = (await get_token(http))["access_token"]
    assert second != first
    emulator.clock.advance(299)
    assert (await send(http, first, "oA"))["errcode"] == 0  # still inside the 5-minute overlap
    emulator.clock.advance(2)
    assert (await send(http, first, "oA"))["errcode"] == 40001
    assert (await send(http, second, "oA"))["errcode"] == 0
    emulator.clock.advance(7200)
    emulator.user_message("oA")
    assert (await send(http, second, "oA"))["errcode"] == 42001


async def test_stable_token_is_stable_until_forced(wx):
    _, http = wx
    creds = {"grant_type": "client_credential", "appid": ACCOUNT.app_id, "secret": ACCOUNT.app_secret}
    a = await (await http.post("/cgi-bin/stable_token", json=creds)).json()
    b = await (await http.post("/cgi-bin/stable_token", json=creds)).json()
    c = await (await http.post("/cgi-bin/stable_token", json={**creds, "force_refresh": True})).json()
    assert a["access_token"] == b["access_token"] != c["access_token"]
    assert (await (await http.post("/cgi-bin/stable_token", json={**creds, "secret": "x"})).json())["errcode"] == 40125


async def test_voice_upload_limits_are_measured_on_the_real_bytes(wx, audio):
    emulator, http = wx
    token = (await get_token(http))["access_token"]
    assert amr_duration(audio["amr70"]) == pytest.approx(70, abs=0.05)
    ok = await upload(http, token, "voice", audio["amr5"], "reply.amr")
    assert ok["type"] == "voice" and len(ok["media_id"]) == 64 and ok["created_at"] == 1_714_000_000
    assert emulator.media[ok["media_id"]].data == audio["amr5"]
    assert (await upload(http, token, "voice", audio["mp3"], "reply.mp3"))["type"] == "voice"
    frames = audio["amr5"][len(b"#!AMR\n") :]
    three_mb = audio["amr5"] + frames * (3 * 1024 * 1024 // len(frames))  # a valid AMR stream of ~3 MB
    assert (await upload(http, token, "voice", three_mb, "big.amr"))["errcode"] == 40006
    assert (await upload(http, token, "voice", audio["amr70"], "long.amr"))["errcode"] == 45007
    assert (await upload(http, token, "voice", audio["mp3_70"], "long.mp3"))["errcode"] == 45007
    assert (await upload(http, token, "voice", audio["wav"], "reply.wav"))["errcode"] == 40004
    assert (await upload(http, token, "voice", b"", "empty.amr"))["errcode"] == 44001
    assert (await upload(http, token, "video", audio["amr5"], "x.amr"))["errcode"] == 40004
    assert len(emulator.uploads) == 2


async def test_image_upload_accepts_jpg_png_only_up_to_2mb(wx):
    _, http = wx
    token = (await get_token(http))["access_token"]
    assert (await upload(http, token, "image", image_bytes("JPEG"), "p.jpg"))["type"] == "image"
    assert (await upload(http, token, "image", image_bytes("PNG"), "p.png"))["type"] == "image"
    assert (await upload(http, token, "image", image_bytes("GIF"), "p.gif"))["errcode"] == 40004
    big = image_bytes("PNG") + b"\x00" * (2 * 1024 * 1024)
    assert (await upload(http, token, "image", big, "big.png"))["errcode"] == 40006


async def test_window_quota_and_48_hours(wx):
    emulator, http = wx
    token = (await get_token(http))["access_token"]
    assert (await send(http, token, "oNever"))["errcode"] == 45015  # never wrote to the account
    emulator.user_message("oA")
    assert [(await send(http, token, "oA", f"m{i}"))["errcode"] for i in range(6)] == [0, 0, 0, 0, 0, 45047]
    assert [s.payload["text"]["content"] for s in emulator.sent_to("oA")] == ["m0", "m1", "m2", "m3", "m4"]
    emulator.user_message("oA")  # a new message from the user opens a fresh window
    assert (await send(http, token, "oA"))["errcode"] == 0
    emulator.clock.advance(48 * 3600)
    token = (await get_token(http))["access_token"]
    assert (await send(http, token, "oA"))["errcode"] == 45015
    emulator.user_message("oB")
    emulator.unsubscribe("oB")
    assert (await send(http, token, "oB"))["errcode"] == 45015


async def test_voice_send_needs_a_live_uploaded_media_id(wx, audio):
    emulator, http = wx
    token = (await get_token(http))["access_token"]
    emulator.user_message("oA")
    media_id = (await upload(http, token, "voice", audio["amr5"], "r.amr"))["media_id"]
    body = {"touser": "oA", "msgtype": "voice", "voice": {"media_id": media_id}}
    assert (await (await http.post(CS_SEND, params={"access_token": token}, json=body)).json())["errcode"] == 0
    assert emulator.sent_to("oA")[0].media.data == audio["amr5"]
    bad = {"touser": "oA", "msgtype": "voice", "voice": {"media_id": "nope"}}
    assert (await (await http.post(CS_SEND, params={"access_token": token}, json=bad)).json())["errcode"] == 40007
    as_image = {"touser": "oA", "msgtype": "image", "image": {"media_id": media_id}}
    assert (await (await http.post(CS_SEND, params={"access_token": token}, json=as_image)).json())["errcode"] == 40007


async def test_media_get_serves_stored_media_and_json_errors(wx, audio):
    emulator, http = wx
    token = (await get_token(http))["access_token"]
    media_id = emulator.put_media(audio["amr5"])
    resp = await http.get("/cgi-bin/media/get", params={"access_token": token, "media_id": media_id})
    assert resp.status == 200 and resp.content_type == "audio/amr"
    assert await resp.read() == audio["amr5"]
    missing = await http.get("/cgi-bin/media/get", params={"access_token": token, "media_id": "nope"})
    assert missing.content_type == "application/json"
    assert (await missing.json())["errcode"] == 40007
    emulator.clock.advance(3 * 86400)
    token = (await get_token(http))["access_token"]
    expired = await http.get("/cgi-bin/media/get", params={"access_token": token, "media_id": media_id})
    assert (await expired.json())["errcode"] == 40007


async def test_no_customer_service_permission_and_failure_injection(wx):
    emulator, http = wx
    token = (await get_token(http))["access_token"]
    emulator.user_message("oA")
    emulator.fail_next(-1, times=2, path=CS_SEND)
    assert [(await send(http, token, "oA"))["errcode"] for _ in range(3)] == [-1, -1, 0]
    emulator.fail_next(None, http_status=502)
    resp = await http.get("/cgi-bin/token", params={"grant_type": "client_credential"})
    assert resp.status == 502
    emulator.account.customer_service = False
    assert (await send(http, token, "oA"))["errcode"] == 48001
