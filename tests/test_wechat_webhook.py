"""The webhook's verification front, driven by the emulator's WeChat client over real HTTP."""

import asyncio
import base64
import logging
import struct
import time

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from voicebot.channels.wechat import WechatCrypto, WechatWebhook, sign, text_reply, voice_reply
from voicebot.channels.wechat.crypto import decode_aes_key
from voicebot.config import WechatConfig
from voicebot.testing.wechat_emulator import WechatClient

TOKEN = "hook-token"
APP_ID = "wx0123456789abcdef"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
MODE_SEEN = {"plain": "plain", "compat": "compat", "safe": "aes"}


class Recorder:
    """A stand-in pipeline entry: records every call and answers with ``answer(msg)``."""

    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer or (lambda msg: None)

    async def __call__(self, msg, mode, encoder):
        self.calls.append((msg, mode, encoder))
        result = self.answer(msg)
        return await result if asyncio.iscoroutine(result) else result


def plain_config(**overrides) -> WechatConfig:
    """An account in plaintext mode: no EncodingAESKey configured."""
    return wechat_config(encoding_aes_key="", **overrides)


def wechat_config(**overrides) -> WechatConfig:
    values = {"enabled": True, "token": TOKEN, "app_id": APP_ID, "encoding_aes_key": KEY, "max_body_bytes": 4096}
    values.update(overrides)
    return WechatConfig(**values)


@pytest.fixture
async def serve(aiohttp_server):
    """``await serve(recorder, config)`` starts a webhook; returns (server, make_client)."""
    made: list[WechatClient] = []

    async def start(recorder: Recorder, config: WechatConfig | None = None):
        config = config or wechat_config()
        app = web.Application()
        app.router.add_routes(WechatWebhook(config, recorder).routes())
        server = await aiohttp_server(app)

        def client(mode="plain", key=KEY, **kw) -> WechatClient:
            url = str(server.make_url(config.path))
            made.append(WechatClient(url, TOKEN, app_id=APP_ID, mode=mode, encoding_aes_key=key, **kw))
            return made[-1]

        return server, client

    yield start
    for c in made:
        await c.close()


def rejected_lines(caplog):
    return [r for r in caplog.records if getattr(r, "event", None) == "wechat.rejected"]


# -- URL verification -------------------------------------------------------------------------------
async def test_get_url_verification_echoes_echostr(aiohttp_client):
    app = web.Application()
    app.router.add_routes(WechatWebhook(wechat_config(), Recorder()).routes())
    http = await aiohttp_client(app)
    ts, nonce = str(int(time.time())), "12345"
    ok = await http.get("/wechat", params={"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "8417 abc"})
    assert (ok.status, await ok.text()) == (200, "8417 abc")
    bad = await http.get("/wechat", params={"signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": "x"})
    assert bad.status == 403
    old = str(int(time.time()) - 301)
    stale = await http.get("/wechat", params={"signature": sign(TOKEN, old, nonce), "timestamp": old, "nonce": nonce, "echostr": "x"})
    assert stale.status == 403


# -- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_round_trip_in_every_mode(serve, mode):
    recorder = Recorder(lambda msg: text_reply(msg, "收到：" + msg.content))
    _, client = await serve(recorder, plain_config() if mode == "plain" else None)
    c = client(mode)
    user = c.user()
    delivery = await user.send_text("手镯多少钱")
    assert delivery.status == 200
    assert delivery.reply.kind == "text"
    assert delivery.reply.content == "收到：手镯多少钱"
    assert delivery.reply.encrypted == (mode != "plain")
    [(msg, seen_mode, _)] = recorder.calls
    assert seen_mode == MODE_SEEN[mode]
    assert (msg.from_user, msg.msg_type, msg.content) == (user.openid, "text", "手镯多少钱")
    assert msg.msg_id == delivery.prepared.inbound.msg_id


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_none_acks_success_and_voice_reply_is_encoded(serve, mode):
    answers = iter([None, "VOICE"])
    recorder = Recorder(lambda msg: voice_reply(msg, "MEDIA123") if next(answers) else None)
    _, client = await serve(recorder, plain_config() if mode == "plain" else None)
    c = client(mode)
    user = c.user()
    first = await user.subscribe()
    assert (first.status, first.reply.kind) == (200, "success")
    assert first.attempts[-1].body == b"success"
    second = await user.send_voice("INBOUND_MEDIA")
    assert (second.reply.kind, second.reply.media_id) == ("voice", "MEDIA123")
    assert recorder.calls[0][0].event == "subscribe"
    assert (recorder.calls[1][0].media_id, recorder.calls[1][0].format) == ("INBOUND_MEDIA", "amr")


async def test_key_rotation_accepts_previous_key_and_replies_with_it(serve):
    recorder = Recorder(lambda msg: text_reply(msg, "ok"))
    config = wechat_config(encoding_aes_key=KEY, previous_encoding_aes_key=OLD_KEY)
    _, client = await serve(recorder, config)
    on_old_key = client("safe", key=OLD_KEY)
    delivery = await on_old_key.user().send_text("hi")
    assert delivery.reply.content == "ok"  # parse_reply decrypted it with the OLD key only
    assert recorder.calls[0][2].key_index == 1
    assert WechatCrypto(TOKEN, OLD_KEY, APP_ID).decrypt_envelope(delivery.attempts[-1].body).key_index == 0


# -- rejections ---------------------------------------------------------------------------------------
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>oUser</FromUserName>"
    "<CreateTime>1714036504</CreateTime><MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"
)
GOOD_XML = (
    "<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>oUser</FromUserName>"
    "<CreateTime>1714036504</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId></xml>"
)


def plain_query(ts=None, nonce="98765", signature=None):
    ts = str(int(time.time()) if ts is None else ts)
    return {"signature": signature or sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "oUser"}


def aes_query(encrypt, ts=None, nonce="98765", msg_signature=None):
    ts = str(int(time.time()) if ts is None else ts)
    q = plain_query(ts, nonce)
    q.update(encrypt_type="aes", msg_signature=msg_signature or sign(TOKEN, ts, nonce, encrypt))
    return q


def envelope(encrypt):
    return f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"


def raw_encrypt(plaintext: bytes, key=KEY) -> str:
    k = decode_aes_key(key)
    enc = Cipher(algorithms.AES(k), modes.CBC(k[:16])).encryptor()
    return base64.b64encode(enc.update(plaintext) + enc.finalize()).decode()


def bad_padding_ciphertext() -> str:
    body = b"r" * 16 + struct.pack(">I", len(GOOD_XML)) + GOOD_XML.encode() + APP_ID.encode()
    body += b"x" * (-(len(body) + 1) % 32) + b"\x00"  # a zero pad value is never valid PKCS#7
    return raw_encrypt(body)


def tampered_ciphertext() -> str:
    raw = bytearray(base64.b64decode(WechatCrypto(TOKEN, KEY, APP_ID).encrypt(GOOD_XML.encode())))
    raw[len(raw) // 2] ^= 0x80
    return base64.b64encode(bytes(raw)).decode()


REJECTIONS = {
    "forged-signature": (lambda: (plain_query(signature="a" * 40), GOOD_XML), 403, "invalid_signature"),
    "stale-timestamp": (lambda: (plain_query(ts=int(time.time()) - 301), GOOD_XML), 403, "stale_timestamp"),
    "future-timestamp": (lambda: (plain_query(ts=int(time.time()) + 400), GOOD_XML), 403, "stale_timestamp"),
    "no-signature": (lambda: ({}, GOOD_XML), 403, "invalid_signature"),
    "forged-msg-signature": (
        lambda: (aes_query(e := WechatCrypto(TOKEN, KEY, APP_ID).encrypt(GOOD_XML.encode()), msg_signature="b" * 40), envelope(e)),
        403,
        "invalid_signature",
    ),
    "plain-signature-only-on-aes": (
        # a correct ``signature`` does not vouch for the ciphertext: msg_signature must
        lambda: ({**aes_query("x"), "msg_signature": plain_query()["signature"]}, envelope(WechatCrypto(TOKEN, KEY, APP_ID).encrypt(b"<xml/>"))),
        403,
        "invalid_signature",
    ),
    "stale-aes": (
        lambda: (aes_query(e := WechatCrypto(TOKEN, KEY, APP_ID).encrypt(GOOD_XML.encode()), ts=int(time.time()) - 1000), envelope(e)),
        403,
        "stale_timestamp",
    ),
    "tampered-ciphertext": (lambda: (aes_query(e := tampered_ciphertext()), envelope(e)), 400, None),
    "wrong-app-id": (
        lambda: (aes_query(e := WechatCrypto(TOKEN, KEY, "wx_other_account").encrypt(GOOD_XML.encode())), envelope(e)),
        400,
        "wrong_app_id",
    ),
    "bad-padding": (lambda: (aes_query(e := bad_padding_ciphertext()), envelope(e)), 400, "decrypt_error"),
    "billion-laughs": (lambda: (plain_query(), BILLION_LAUGHS), 400, "malformed_message"),
    "billion-laughs-encrypted": (
        lambda: (aes_query(e := WechatCrypto(TOKEN, KEY, APP_ID).encrypt(BILLION_LAUGHS.encode())), envelope(e)),
        400,
        "malformed_message",
    ),
    "malformed-xml": (lambda: (plain_query(), "<xml><ToUserName>gh</ToUserName"), 400, "malformed_message"),
    "not-a-message": (lambda: (plain_query(), "<xml><Hello>1</Hello></xml>"), 400, "malformed_message"),
    "aes-without-encrypt": (lambda: (aes_query("x"), GOOD_XML), 400, "malformed_message"),
    "oversized-declared": (lambda: (plain_query(), GOOD_XML + " " * 5000), 413, "body_too_large"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
async def test_invalid_requests_are_rejected_logged_and_never_reach_the_pipeline(serve, caplog, case):
    build, status, reason = REJECTIONS[case]
    recorder = Recorder(lambda msg: text_reply(msg, "should not happen"))
    query, body = build()
    server, _ = await serve(recorder, None if "encrypt_type" in query else plain_config())
    caplog.set_level(logging.INFO, logger="voicebot")
    async with server_session(server) as http:
        resp = await http.post("/wechat", params=query, data=body.encode())
        text = await resp.text()
    assert resp.status == status
    assert recorder.calls == []
    [line] = rejected_lines(caplog)
    assert line.fields["status"] == status
    if reason:
        assert line.fields["reason"] == reason == text
    assert "Traceback" not in text and "Traceback" not in caplog.text


async def test_oversized_chunked_body_is_cut_off_while_reading(serve, caplog):
    recorder = Recorder()
    server, _ = await serve(recorder, plain_config())

    async def chunks():
        for _ in range(100):  # 100 KiB without a Content-Length
            yield b"<" * 1024

    async with server_session(server) as http:
        resp = await http.post("/wechat", params=plain_query(), data=chunks())
    assert resp.status == 413
    assert recorder.calls == []


async def test_encrypted_request_without_configured_key_is_rejected(serve):
    recorder = Recorder()
    server, _ = await serve(recorder, wechat_config(encoding_aes_key=""))
    e = WechatCrypto(TOKEN, KEY, APP_ID).encrypt(GOOD_XML.encode())
    async with server_session(server) as http:
        resp = await http.post("/wechat", params=aes_query(e), data=envelope(e).encode())
    assert resp.status == 400
    assert recorder.calls == []


async def test_handler_failure_is_500_without_trace_so_wechat_redelivers(serve, caplog):
    def boom(msg):
        raise RuntimeError("inbox locked")

    server, client = await serve(Recorder(boom), plain_config())
    caplog.set_level(logging.INFO, logger="voicebot")
    delivery = await client().user().send_text("hi")
    assert delivery.status == 500
    assert delivery.attempts[-1].body == b"error"
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "wechat.handler_failed"]
    assert line.fields["error"] == "RuntimeError: inbox locked"


# -- WeChat's redelivery ------------------------------------------------------------------------------
async def test_slow_answer_is_redelivered_byte_identical_and_later_delivery_gets_the_reply(serve):
    release = asyncio.Event()

    async def slow_first(msg):
        if len(recorder.calls) == 1:
            await release.wait()  # the first delivery is still "processing" when WeChat gives up
            return None
        return text_reply(msg, "ready")

    recorder = Recorder(slow_first)
    _, client = await serve(recorder)
    delivery = await client("safe", timeout_s=0.3).user().send_text("价格")
    release.set()
    assert [a.timed_out for a in delivery.attempts] == [True, False]
    assert delivery.reply.content == "ready"
    assert delivery.user_notice is None
    first, second = recorder.calls[0][0], recorder.calls[1][0]
    assert first.raw == second.raw and first.dedup_key == second.dedup_key


async def test_three_timeouts_show_the_user_the_unavailable_notice(serve):
    release = asyncio.Event()

    async def never(msg):
        await release.wait()

    recorder = Recorder(never)
    _, client = await serve(recorder, plain_config())
    delivery = await client(timeout_s=0.2).user().send_text("hello")
    release.set()
    assert len(delivery.attempts) == 3 and all(a.timed_out for a in delivery.attempts)
    assert delivery.reply is None
    assert delivery.user_notice == "该公众号暂时无法提供服务，请稍后再试"
    assert len({call[0].msg_id for call in recorder.calls}) == 1


def server_session(server):
    from aiohttp import ClientSession

    return ClientSession(base_url=server.make_url("/"))
