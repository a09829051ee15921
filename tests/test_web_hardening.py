"""The browser chat's pages are not framable or sniffable, and reply audio is a capability for one user."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from web_service import Chat, start_web, web_config

from voicebot.channels.web import files

PRODUCTS = [("蜂蜜", 45, 5, "瓶")]


@pytest.fixture
async def service(aiohttp_server, tmp_path):
    return await start_web(aiohttp_server, web_config(tmp_path / "data"), PRODUCTS)


async def test_front_chat_and_media_pages_forbid_framing_sniffing_and_foreign_scripts(service):
    chat = await Chat(service, service.buyer_link()).open()
    try:
        for path in ("/", f"/chat/{chat.link}", "/chat/media/" + "0" * 64 + ".mp3", "/chat/static/chat.js"):
            async with chat.session.get(service.url + path) as r:
                csp = r.headers.get("Content-Security-Policy", "")
                assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
                assert "default-src 'self'" in csp and "unsafe-inline" not in csp, path
                assert r.headers.get("X-Frame-Options") == "DENY", path
                assert r.headers.get("X-Content-Type-Options") == "nosniff", path
    finally:
        await chat.close()


async def test_reply_audio_is_only_served_to_the_user_it_was_signed_for(service):
    ana = await Chat(service, service.buyer_link()).open()
    bo = await Chat(service, service.buyer_link()).open()
    try:
        urls = []
        for n, chat in enumerate((ana, bo)):
            await chat.send({"type": "text", "id": f"t-{n}", "text": "蜂蜜多少钱"})
            urls.append((await chat.next("reply"))["audio_url"])
        (a, b) = urls
        # the same sentence, the same file, but a different URL for each user
        assert urlsplit(a).path == urlsplit(b).path and a != b
        async with bo.session.get(service.url + a) as r:
            assert r.status == 200 and r.content_type == "audio/mpeg"  # a capability: whoever holds it
        bare = urlsplit(a).path
        query = parse_qs(urlsplit(a).query)
        forged = {
            "the content hash alone": bare,
            "another user's name on ana's signature": f"{bare}?u=buyer%3Aother&e={query['e'][0]}&s={query['s'][0]}",
            "a later expiry": f"{bare}?u={query['u'][0]}&e={int(query['e'][0]) + 86400}&s={query['s'][0]}",
            "no signature": f"{bare}?u={query['u'][0]}&e={query['e'][0]}",
        }
        for what, url in forged.items():
            async with bo.session.get(service.url + url) as r:
                assert r.status == 404, what
    finally:
        await ana.close()
        await bo.close()


def test_a_media_capability_expires():
    key, name, user = b"k" * 32, "a" * 64 + ".mp3", "buyer:0123"
    now = time.time()
    expires = int(now) + 3600
    sig = files.media_signature(key, user, name, expires)
    assert files.media_allowed(key, name, user, str(expires), sig, now=now)
    assert not files.media_allowed(key, name, user, str(expires), sig, now=now + 7200)
    assert not files.media_allowed(b"x" * 32, name, user, str(expires), sig, now=now)
    assert not files.media_allowed(key, name, user, "99999999999999999999", sig, now=now)
