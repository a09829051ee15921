"""A voice note's media is fetched without waiting for the database thread's queued work."""

from __future__ import annotations

import asyncio
import threading

from test_wechat_e2e import ZH_PRODUCTS
from wechat_service import shop_service

from voicebot.app_keys import DB, WECHAT
from voicebot.testing.wechat_media import synth


async def test_media_fetch_does_not_wait_behind_the_database_thread(aiohttp_server, tmp_path, emulator):
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS)
    channel, db = service.app[WECHAT], service.app[DB]
    first, second = synth(1), synth(2)
    assert await channel.fetch_media(emulator.put_media(first), 10**6) == first  # a token in hand
    gate = threading.Event()
    busy = asyncio.ensure_future(db.run(lambda shop: gate.wait(60)))  # a long call on the database thread
    queued = asyncio.ensure_future(db.run(lambda shop: None))  # and work queued behind it
    try:
        await asyncio.sleep(0)
        assert db.queued >= 1
        fetched = await asyncio.wait_for(channel.fetch_media(emulator.put_media(second), 10**6), 30)
        assert fetched == second
        assert not busy.done() and not queued.done()  # the note came while the database was still busy
    finally:
        gate.set()
        await asyncio.gather(busy, queued)
    assert emulator.calls_to("/cgi-bin/token") == 1
