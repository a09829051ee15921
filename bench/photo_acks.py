"""Photo benchmark: do big photos and decompression bombs stall the acknowledgement of other messages?

An in-process service (WeChat channel, customer-service mode) and WeChat emulator on local ports.
Text messages from 40 buyers are delivered (8 at a time) once on a quiet service (baseline), then again
while 10 large photos (6000x6000 PNG, 36 megapixels, decoded for real) and 10 decompression bombs
(7000x7000 PNG of ~50 KB, refused from the header) arrive. Prints ack latency p50/p99/max for both and
the ratio: photos are decoded in a thread, so acks should barely notice.

Run: .venv/bin/python bench/photo_acks.py
"""

from __future__ import annotations

import asyncio
import io
import statistics
import struct
import tempfile
import time
import zlib
from pathlib import Path

from aiohttp.test_utils import TestServer
from PIL import Image

from voicebot.app import PIPELINE, SENDER, create_app
from voicebot.config import load_config
from voicebot.testing.wechat_client import WechatClient
from voicebot.testing.wechat_emulator import WechatEmulator

TOKEN = "bench-token"
SELLER = "oSellerBench000000000000000000"


def big_png(side: int = 6000) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((side, side)).convert("RGB").save(out, "PNG", compress_level=1)
    return out.getvalue()


def png_bomb(side: int = 7000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress((b"\x00" * (side * 3 + 1)) * side, 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


async def acks(wx: WechatClient, n: int, tag: str) -> list[float]:
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> float:
        async with gate:
            attempt = await wx.post_once(wx.prepare(wx.user(f"o{tag}{i:026d}").text("蜂蜜多少钱")))
            assert attempt.status == 200, attempt
            return attempt.seconds * 1000

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"n={len(ms)} p50 {statistics.median(ms):.1f} ms  p99 {p99:.1f} ms  max {ms[-1]:.1f} ms"


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="voicebot-bench-"))
    emulator = WechatEmulator()
    api = TestServer(emulator.app)
    await api.start_server()
    config = load_config(environ={}, overrides={
        "server": {"data_dir": str(folder / "data")},
        "shop": {"language": "zh", "sellers": [SELLER]},
        "asr": {"workers": 1},
        "storage": {"max_photo_bytes": 20_000_000},
        "wechat": {"enabled": True, "token": TOKEN, "app_id": emulator.account.app_id,
                   "app_secret": emulator.account.app_secret, "api_base": str(api.make_url("")).rstrip("/"),
                   "reply_mode": "customer_service"},
    })
    service = TestServer(create_app(config))
    await service.start_server()
    big, bomb = big_png(), png_bomb()
    url = str(service.make_url(config.wechat.path))
    client = WechatClient(url, TOKEN, app_id=emulator.account.app_id, emulator=emulator, timeout_s=30)
    async with client as wx:
        await acks(wx, 8, "warm")  # TTS cache and token warm
        baseline = await acks(wx, 40, "base")
        started = time.perf_counter()
        photos = [wx.deliver(wx.user(SELLER).image(emulator.put_media(big, "image"))) for _ in range(10)]
        photos += [wx.deliver(wx.user(SELLER).image(emulator.put_media(bomb, "image"))) for _ in range(10)]
        photo_task = asyncio.gather(*photos)
        await asyncio.sleep(0.05)
        loaded = await acks(wx, 40, "load")
        await photo_task
        await service.app[PIPELINE].drain()
        photo_s = time.perf_counter() - started
        await service.app[SENDER].flush()
    await service.close()
    await api.close()
    print(f"photos: 10 x {len(big) // 1024} KB PNG of 6000x6000 (36 MP), 10 x {len(bomb) // 1024} KB bombs "
          f"of 7000x7000; all processed in {photo_s:.1f} s")
    print(f"acks, quiet service:      {summary(baseline)}")
    print(f"acks, while photos decode: {summary(loaded)}")
    print(f"ratio p50 loaded/quiet: {statistics.median(loaded) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
