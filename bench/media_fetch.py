"""The `fetch` stage of a WeChat voice note while the database thread has work queued.

A voice note's media is downloaded from the (emulated) WeChat API with the service's access token. Before,
every download first read the token from the shared ``kv`` table through the database thread, so it waited
behind whatever the thread had queued (other notes' dialogue turns, their logs and steering). Now the token
in hand is kept in memory and the shared table is read only when there is none or WeChat rejected it.

Both ways in the same process, against the same emulator and the same database thread: before each
download, ``--backlog`` real dialogue turns (buyers asking a price, as concurrent notes would) are queued on
the database thread. Baseline: the token in memory is forgotten before each download (the old read-through).
Prints the median and p90 download ms of each and the ratio baseline/fixed.

Run: .venv/bin/python bench/media_fetch.py [--rounds 40] [--backlog 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from aiohttp import web

from voicebot.channels.wechat.api import WechatApi
from voicebot.channels.wechat.channel import DbCache
from voicebot.config import load_config
from voicebot.dialogue import handle_turn
from voicebot.pipeline.dbthread import DbThread
from voicebot.testing.wechat_emulator import WechatEmulator
from voicebot.testing.wechat_media import synth


def _turn(shop, n: int) -> None:
    handle_turn(shop.db, shop.config, channel="wechat", user_id=f"oBench{n}", role="buyer", lang="zh",
                text="蜂蜜多少钱一瓶", confidence=None)


async def _round(api: WechatApi, db: DbThread, media_id: str, backlog: int, n: int, read_through: bool) -> float:
    queued = [asyncio.ensure_future(db.run(_turn, n * backlog + i)) for i in range(backlog)]
    await asyncio.sleep(0)  # the turns are on the thread's queue before the note arrives
    if read_through:
        api._token = None  # the baseline: no token in hand, read the shared table as before
    started = time.perf_counter()
    await api.download_media(media_id)
    ms = (time.perf_counter() - started) * 1000
    await asyncio.gather(*queued)
    return ms


async def main(rounds: int, backlog: int) -> None:
    emulator = WechatEmulator()
    runner = web.AppRunner(emulator.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(environ={}, overrides={
            "server": {"data_dir": folder}, "shop": {"language": "zh"},
            "wechat": {"app_id": emulator.account.app_id, "app_secret": emulator.account.app_secret,
                       "api_base": f"http://127.0.0.1:{port}"}})
        db = DbThread(config)
        await db.start()
        await db.run(lambda shop: shop.add_product("蜂蜜", 45, 5, unit="瓶"))
        cache = DbCache(db)
        media_id = emulator.put_media(synth(3))
        try:
            async with WechatApi(config.wechat, token_cache=cache, media_cache=cache) as api:
                await api.download_media(media_id)  # warm: a token, a connection
                times: dict[str, list[float]] = {"baseline": [], "fixed": []}
                for n in range(rounds):  # interleaved, so load on the shared machine hits both alike
                    times["baseline"].append(await _round(api, db, media_id, backlog, 2 * n, True))
                    times["fixed"].append(await _round(api, db, media_id, backlog, 2 * n + 1, False))
        finally:
            await db.close()
            await runner.cleanup()
    print(f"{rounds} downloads each, {backlog} dialogue turns queued on the database thread before each")
    for name, ms in times.items():
        p90 = statistics.quantiles(ms, n=10)[-1]
        print(f"{name:8}  median {statistics.median(ms):7.1f} ms  p90 {p90:7.1f} ms")
    print(f"ratio baseline/fixed (median): {statistics.median(times['baseline']) / statistics.median(times['fixed']):.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--backlog", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.backlog))
