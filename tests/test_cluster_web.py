"""Browser chats behind several service processes: a buyer whose chat reconnects to another process gets
her reply there, and no process holds back a reply because the buyer's chat is on another one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest
from web_service import Chat, start_web, web_config

from voicebot.app_keys import SENDER, WEB
from voicebot.channels.web.links import CHANNEL
from voicebot.channels.web.routes import COOKIE
from voicebot.shop.facade import Shop
from voicebot.store.outbox import HELD

PRODUCTS = [("蜂蜜", 45, 5, "瓶")]


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the service did not get there")


@pytest.fixture
async def two(aiohttp_server, tmp_path):
    """Two services on one store (as two processes behind a load balancer would be)."""
    config = web_config(tmp_path / "data", web={"new_buyers_per_address_hour": 3})
    first = await start_web(aiohttp_server, config, PRODUCTS)
    second = await start_web(aiohttp_server, config)
    return first, second


async def test_a_reply_finished_after_the_buyer_moved_to_another_process_reaches_her_there(two):
    first, second = two
    chat = await Chat(first, first.buyer_link()).open()
    await chat.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
    assert "四十五" in (await chat.next("reply"))["text"]
    user = first.inbound()[0]["user"]
    await chat.close(session_too=False)
    await until(lambda: user not in first.app[WEB].channel.sockets)  # the first has seen her chat close
    moved = await Chat(second, second.buyer_link(), chat.session).open()  # her reconnect lands on the other
    try:
        await until(lambda: user in second.app[WEB].channel.sockets)  # registered after the welcome
        await second.app[SENDER].close()  # its own loop must not send first: flushed by hand below
        with Shop.open(first.config) as shop:  # a reply the first process finishes only now
            rid = shop.outbox.enqueue(CHANNEL, user, "text", payload={"text": "还有五瓶"}, dedup_key="late")
        assert await first.app[SENDER].flush() == 0  # not the first's to send: her chat is elsewhere
        with Shop.open(first.config) as shop:
            row = next(r for r in shop.outbox.pending_for(CHANNEL, user) if r["id"] == rid)
        assert row["next_attempt_at"] != HELD and not row["last_error"]  # not held back for her next visit
        assert await second.app[SENDER].flush() == 1
        reply = await moved.next("reply")
        assert reply["outbox_id"] == rid and reply["text"] == "还有五瓶"
    finally:
        await moved.close()


async def test_new_identities_from_one_address_are_limited_across_processes(two):
    first, second = two
    link = first.buyer_link()
    statuses = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:  # never keeps a cookie
        for n in range(5):  # a load balancer alternates: each process alone would allow 3
            async with session.get(f"{(first, second)[n % 2].url}/chat/{link}") as r:
                statuses.append((r.status, COOKIE in r.cookies))
    assert statuses == [(200, True)] * 3 + [(429, False)] * 2
