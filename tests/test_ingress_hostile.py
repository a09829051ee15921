"""Hostile input against the running service: every outsider-controlled part of a webhook request.

One real service (real SQLite, real pipeline and workers, the WeChat API emulated) in safe (AES)
mode takes a table of attacks on the body, query, headers, MediaIds, MsgIds and text. Each must
get its status, write at most one log line, reach no pipeline (nothing in the inbox), and leave
the service healthy: afterwards a genuine message is still accepted and answered.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import struct
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from console_helpers import serve_emulator
from test_wechat_e2e import ZH_PRODUCTS
from wechat_service import AES_KEY, TOKEN, shop_service

from voicebot.app import WECHAT
from voicebot.channels.wechat import WechatCrypto, sign
from voicebot.channels.wechat.crypto import decode_aes_key, pkcs7_pad
from voicebot.channels.wechat.messages import cdata
from voicebot.logs import RateLimiter
from voicebot.shop.facade import Shop

ACCOUNT = "gh_0123456789ab"
USER = "oHostile00000000000000000000"


def message(msg_id: str = "4242", msg_type: str = "text", inner: str = "<Content><![CDATA[蜂蜜多少钱]]></Content>",
            user: str = USER) -> str:
    return (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{inner}"
            f"<MsgId>{msg_id}</MsgId></xml>")


def signed_query(ts: int | None = None, nonce: str = "123456", **extra: str) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    return {"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce, "openid": USER, **extra}


def safe(plain: bytes | str, app_id: str, *, ts: int | None = None, ciphertext: str | None = None,
         **query: str) -> tuple[dict[str, str], bytes]:
    """A safe-mode request carrying ``plain`` (or a given ciphertext), signed as WeChat signs it."""
    data = plain.encode("utf-8") if isinstance(plain, str) else plain
    encrypted = ciphertext or WechatCrypto(TOKEN, AES_KEY, app_id).encrypt(data)
    q = signed_query(ts)
    q.update(encrypt_type="aes", msg_signature=sign(TOKEN, q["timestamp"], q["nonce"], encrypted))
    q.update(query)
    body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    return q, body.encode("utf-8")


def raw_cipher(body: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = decode_aes_key(AES_KEY)
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(body) + enc.finalize()).decode()


def bad_padding(app_id: str) -> str:
    xml = message().encode()
    body = b"r" * 16 + struct.pack(">I", len(xml)) + xml + app_id.encode()
    return raw_cipher(body + b"x" * (-(len(body) + 1) % 32) + b"\x00")


BOMB = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>' + message(inner="<Content>&c;</Content>"))
XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + message(
    inner="<Content>&e;</Content>")
DTD = '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd">' + message()
DEEP = message(inner="<Content>" + "<a>" * 500 + "x" + "</a>" * 500 + "</Content>")


@dataclass
class Case:
    build: Any  # (app_id) -> (query, body bytes, headers)
    status: int
    reason: str


def plain_case(query: dict[str, str], body: bytes | str) -> Any:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return lambda app_id: (query, data, {})


def safe_case(plain: bytes | str, **kw: Any) -> Any:
    return lambda app_id: (*safe(plain, app_id, **kw), {})


CASES: dict[str, Case] = {
    # query: who is calling
    "forged-signature": Case(lambda a: ({**safe(message(), a)[0], "signature": "f" * 40}, safe(message(), a)[1], {}),
                             403, "invalid_signature"),
    "no-query-at-all": Case(lambda a: ({}, safe(message(), a)[1], {}), 403, "invalid_signature"),
    "unicode-signature": Case(lambda a: ({**safe(message(), a)[0], "signature": "é" * 40}, b"<xml/>", {}),
                              403, "invalid_signature"),
    "stale-timestamp": Case(safe_case(message(), ts=int(time.time()) - 3600), 403, "stale_timestamp"),
    "forged-msg-signature": Case(lambda a: (safe(message(), a, msg_signature="0" * 40)[0],
                                            safe(message(), a)[1], {}), 403, "invalid_signature"),
    # signed when sent, not when collected: a slow suite must not make it a stale timestamp
    "plaintext-downgrade": Case(lambda a: plain_case(signed_query(), message())(a), 403, "plaintext_refused"),
    # the decrypted layer
    "wrong-app-id": Case(lambda a: (*safe(message(), "wx_someone_else"), {}), 400, "wrong_app_id"),
    "bad-padding": Case(lambda a: (*safe(b"", a, ciphertext=bad_padding(a)), {}), 400, "decrypt_error"),
    "not-base64": Case(lambda a: (*safe(b"", a, ciphertext="%%%not base64%%%"), {}), 400, "decrypt_error"),
    "short-block": Case(lambda a: (*safe(b"", a, ciphertext=raw_cipher(pkcs7_pad(b"x" * 5))), {}), 400,
                        "decrypt_error"),
    # the XML
    "xml-bomb": Case(safe_case(BOMB), 400, "malformed_message"),
    "xxe": Case(safe_case(XXE), 400, "malformed_message"),
    "external-dtd": Case(safe_case(DTD), 400, "malformed_message"),
    "deep-nesting-inside": Case(safe_case(DEEP), 400, "malformed_message"),
    "deep-nesting-envelope": Case(lambda a: (signed_query(encrypt_type="aes", msg_signature="0" * 40),
                                             ("<xml>" + "<a>" * 500 + "</a>" * 500 + "</xml>").encode(), {}),
                                  400, "malformed_message"),
    "invalid-utf8": Case(safe_case(message().encode().replace("蜂蜜".encode(), b"\xff\xfe\xc3\x28")), 400,
                         "malformed_message"),
    "invalid-utf8-envelope": Case(lambda a: (signed_query(encrypt_type="aes", msg_signature="0" * 40),
                                             b"<xml><Encrypt>\xff\xfe</Encrypt></xml>", {}), 400,
                                  "malformed_message"),
    "not-xml": Case(safe_case(b"\x00\x01 hello"), 400, "malformed_message"),
    # the fields
    "media-id-traversal": Case(safe_case(message(msg_type="voice", inner=(
        "<MediaId><![CDATA[../../../../etc/passwd]]></MediaId><Format><![CDATA[amr]]></Format>"))),
        400, "malformed_message"),
    "media-id-huge": Case(safe_case(message(msg_type="image", inner=f"<MediaId>{'m' * 5000}</MediaId>")), 400,
                          "malformed_message"),
    "msg-id-huge": Case(safe_case(message(msg_id="9" * 65)), 400, "malformed_message"),
    "msg-id-unicode-digits": Case(safe_case(message(msg_id="١٢٣٤")), 400, "malformed_message"),
    "msg-id-superscript": Case(safe_case(message(msg_id="²³")), 400, "malformed_message"),
    "msg-id-negative": Case(safe_case(message(msg_id="-1")), 400, "malformed_message"),
    "openid-huge": Case(safe_case(message(user="o" * 5000)), 400, "malformed_message"),
    "content-is-nested": Case(safe_case(message(inner="<Content><b>x</b></Content>")), 400, "malformed_message"),
    # size
    "huge-body-10mb": Case(lambda a: (safe(message(), a)[0], b"<" * (10 * 1024 * 1024), {}), 413,
                           "body_too_large"),
}


async def post(session: aiohttp.ClientSession, url: str, query: dict[str, str], body: bytes,
               headers: dict[str, str]) -> tuple[int, str]:
    try:
        async with session.post(f"{url}?{urlencode(query)}", data=body, headers=headers) as r:
            return r.status, await r.text()
    except aiohttp.ClientOSError:  # the server answered early and closed while we were still sending
        return -1, ""


def inbound_count(service) -> int:
    with Shop.open(service.config) as shop:
        return len(shop.list_messages(direction="in"))


@pytest.fixture
async def service(aiohttp_server, tmp_path):
    emulator = await serve_emulator(aiohttp_server)
    return await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS, wechat={"body_timeout_s": 1.0})


async def test_every_hostile_request_is_refused_with_one_line_and_the_service_stays_healthy(service, caplog):
    app_id = service.emulator.account.app_id
    url = service.url + service.config.wechat.path
    webhook = service.app[WECHAT].webhook
    failures = []
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as session:
        for name, case in CASES.items():
            webhook.log_limiter = RateLimiter()  # each case on its own: one line expected
            query, body, headers = case.build(app_id)
            caplog.clear()
            status, text = await post(session, url, query, body, headers)
            # (the test server's access log is not the service's: `voicebot serve` runs without one)
            lines = [r for r in caplog.records if r.levelno >= logging.INFO and r.name != "aiohttp.access"]
            events = [getattr(r, "event", r.getMessage()) for r in lines]
            if status == -1 and case.status == 413:  # the client saw the early 413 as a reset
                status = 413
            if status != case.status:
                failures.append(f"{name}: status {status} != {case.status} ({text[:80]})")
            elif text != case.reason:
                failures.append(f"{name}: body {text[:80]!r} != {case.reason!r}")
            if events != ["wechat.rejected"]:
                failures.append(f"{name}: log lines {events}")
            elif lines[0].fields["reason"] != case.reason:
                failures.append(f"{name}: logged reason {lines[0].fields['reason']} != {case.reason}")
            if "Traceback" in caplog.text:
                failures.append(f"{name}: a traceback was logged")
        assert failures == []
        assert inbound_count(service) == 0  # nothing reached the inbox, hence no pipeline run

        async with session.get(service.url + "/healthz") as r:
            assert r.status == 200 and (await r.json())["tts"]["ready"]
    async with service.client("safe") as wx:  # a genuine message still goes through and is answered
        delivery = await wx.user().send_text("蜂蜜多少钱")
    assert delivery.status == 200
    await service.settle()
    assert inbound_count(service) == 1
    assert len(service.emulator.sent) == 1


async def test_a_slow_body_gets_408_and_one_line(service, caplog):
    caplog.set_level(logging.INFO)
    query, body = safe(message(), service.emulator.account.app_id)
    host, port = service.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"POST {service.config.wechat.path}?{urlencode(query)} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n")
    writer.write(head.encode() + body[:10])  # then nothing more: a sender that stalls
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    assert status_line.split()[1] == b"408"
    rejected = [r for r in caplog.records if getattr(r, "event", "") == "wechat.rejected"]
    assert [r.fields["reason"] for r in rejected] == ["body_timeout"]
    assert inbound_count(service) == 0


async def test_a_flood_of_forged_requests_writes_one_line_a_second_with_a_count(service, caplog):
    now = [0.0]
    service.app[WECHAT].webhook.log_limiter = RateLimiter(clock=lambda: now[0])
    caplog.set_level(logging.INFO)
    query = {**signed_query(), "signature": "f" * 40}
    url = service.url + service.config.wechat.path
    async with aiohttp.ClientSession() as session:
        statuses = [await post(session, url, query, b"<xml/>", {}) for _ in range(60)]
        now[0] = 1.5  # a second later the next rejection is written, with the count of those left out
        statuses.append(await post(session, url, query, b"<xml/>", {}))
    assert {s for s, _ in statuses} == {403}
    rejected = [r for r in caplog.records if getattr(r, "event", "") == "wechat.rejected"]
    assert len(rejected) == 2
    assert "suppressed" not in rejected[0].fields and rejected[1].fields["suppressed"] == 59


async def test_a_replayed_genuine_request_is_acted_on_once_and_logged_once(service, caplog):
    caplog.set_level(logging.INFO)
    query, body = safe(message(msg_id="777"), service.emulator.account.app_id)
    service.emulator.user_message(USER)  # WeChat opens the user's reply window
    url = service.url + service.config.wechat.path
    async with aiohttp.ClientSession() as session:
        statuses = [(await post(session, url, query, body, {}))[0] for _ in range(30)]
    await service.settle()
    assert statuses == [200] * 30  # byte-identical, as WeChat's own redeliveries are
    assert inbound_count(service) == 1 and len(service.emulator.sent) == 1
    per_event = Counter(getattr(r, "event", "") for r in caplog.records)
    assert per_event["wechat.received"] <= 2 and per_event["inbox.duplicate"] <= 2
