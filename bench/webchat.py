"""Browser chat benchmark: a WebM/Opus clip over the WebSocket until its reply event, against the
same message run straight through the pipeline (no socket, no outbox sender) in the same process.

The service runs for real (aiohttp on a free port, Vosk, espeak-ng, SQLite); a client sends each
clip as a binary frame, as the page does, and times ``received``, ``heard`` and ``reply``. The
baseline is ``Pipeline.process`` on the same clip. Prints medians and the ratio web/pipeline.

Run: .venv/bin/python bench/webchat.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))
from ko_shop import QUESTIONS, ko_shop, question_clips  # noqa: E402

from voicebot.app import PIPELINE, create_app
from voicebot.channels.web.links import shop_link
from voicebot.pipeline.inbound import Inbound
from voicebot.shop.facade import Shop


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="voicebot-bench-web-"))
    config = ko_shop(folder)
    with Shop.open(config) as shop:
        link = shop_link(shop.db)
    clips = question_clips(folder, "webm")

    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    web_ms: dict[str, list[float]] = {"received": [], "heard": [], "reply": []}
    direct_ms: list[float] = []
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await (await session.get(f"{url}/chat/{link}")).read()
            async with session.ws_connect(f"{url}/chat/{link}/ws") as ws:
                await ws.receive_json()  # welcome
                for i, clip in enumerate(clips):
                    started = time.perf_counter()
                    await ws.send_bytes(json.dumps({"type": "clip", "id": f"c{i}", "mime": "audio/webm"}).encode()
                                        + b"\n" + clip)
                    while True:
                        event = await ws.receive_json()
                        if event["type"] in web_ms and event.get("id") == f"c{i}":
                            web_ms[event["type"]].append((time.perf_counter() - started) * 1000)
                            if event["type"] == "reply":
                                break
        pipeline = app[PIPELINE]
        for i, clip in enumerate(clips):  # the baseline: the same clips, straight through the pipeline
            mid, _ = await pipeline.accept(Inbound("bench", f"m{i}", f"direct{i % 4}", "voice", media=clip))
            started = time.perf_counter()
            result = await pipeline.process(mid)
            assert result is not None and result.status == "replied", result
            direct_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await runner.cleanup()

    med = {k: statistics.median(v) for k, v in web_ms.items()}
    direct = statistics.median(direct_ms)
    print(f"clips: {len(clips)} WebM/Opus clips over one WebSocket, {len(QUESTIONS)} distinct questions")
    print(f"web chat: median ms  received {med['received']:.0f}  heard {med['heard']:.0f}  reply {med['reply']:.0f}")
    print(f"same clips through Pipeline.process directly: median {direct:.0f} ms")
    print(f"ratio web reply/direct pipeline: {med['reply'] / direct:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
