"""Media from users: transient fetch errors are retried, each lasting problem gets its own spoken answer,
downloads and decoders are bounded, and photos are decoded off the event loop and the database thread."""

from __future__ import annotations

import io
import threading
import zlib

from PIL import Image
from test_wechat_e2e import ZH_PRODUCTS, jpeg, voice_payloads
from wechat_service import SELLER, only_inbound, shop_service

from voicebot.app import WECHAT
from voicebot.dialogue.replies import say
from voicebot.shop import photos
from voicebot.shop.facade import Shop

MEDIA_GET = "/cgi-bin/media/get"


def png_bomb(side: int = 7000) -> bytes:
    """A small PNG (~140 KB) that decodes to side x side pixels of RGB: a decompression bomb."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * (side * 3)
    raw = zlib.compress(row * side, 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


async def zh_service(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS)
    service.app[WECHAT].media_retry_delays_s = (0.0, 0.0, 0.0, 0.0)  # no real waiting between retries
    return service


def photo_count(config) -> int:
    with Shop.open(config) as shop:
        return shop.village.execute("SELECT count(*) FROM photos").fetchone()[0]


async def test_a_transient_media_error_is_retried(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await zh_service(aiohttp_server, tmp_path, emulator)
    emulator.fail_next(-1, times=2, path=MEDIA_GET)  # "system error", then a 502 page
    emulator.fail_next(None, times=1, path=MEDIA_GET, http_status=502)
    async with service.client() as wx:
        seller = wx.user(SELLER)
        await seller.send_image(jpeg())
        await service.settle()
    row = only_inbound(service.config, SELLER)
    assert row["error"] is None and row["status"] == "replied"
    assert photo_count(service.config) == 1 and emulator.calls_to(MEDIA_GET) == 4


async def test_each_media_problem_gets_its_own_spoken_answer(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await zh_service(aiohttp_server, tmp_path, emulator)
    async with service.client() as wx:
        expired, damaged, bomb, big = wx.user(), wx.user(), wx.user(), wx.user()
        await wx.deliver(expired.voice("no-such-media-id-0123456789"))  # WeChat answers 40007
        await damaged.send_image(jpeg()[:300])  # a cut-off JPEG
        await bomb.send_image(png_bomb())
        await big.send_voice(b"#!AMR\n" + b"\x3c" + bytes(31) * 200_000)  # 6.4 MB, over audio.max_file_bytes
        await service.settle()
    expected = [(expired, "fetch.expired", "errors.media_expired"), (damaged, "photo.damaged", "errors.photo_damaged"),
                (bomb, "photo.too_large", "errors.photo_too_large"), (big, "fetch.too_large", "errors.media_too_large")]
    for user, code, key in expected:
        row = only_inbound(service.config, user.openid)
        assert row["reply_text"] == say("zh", key), key
        assert row["status"] == "replied" and row["error"].startswith(f"{code}: "), row["error"]
        assert len(voice_payloads(emulator, user.openid)) == 1  # spoken, never silence
    assert photo_count(service.config) == 0  # neither the damaged photo nor the bomb was stored
    assert not any(p.stat().st_size > 5_000_000 for p in service.config.media_dir.rglob("*"))  # not kept


async def test_photos_are_decoded_off_the_loop_and_the_database_thread(aiohttp_server, tmp_path, emulator,  # noqa: F811
                                                                       monkeypatch):
    service = await zh_service(aiohttp_server, tmp_path, emulator)
    decoded_in: list[str] = []
    inspect = photos.inspect_photo

    def spy(data: bytes, max_bytes: int):
        decoded_in.append(threading.current_thread().name)
        return inspect(data, max_bytes)

    monkeypatch.setattr(photos, "inspect_photo", spy)
    db_threads = {t.name for t in threading.enumerate() if "db" in t.name.lower()}
    async with service.client() as wx:
        await wx.user(SELLER).send_image(jpeg())
        await service.settle()
    assert len(decoded_in) == 1
    assert decoded_in[0] != threading.main_thread().name and decoded_in[0] not in db_threads
    assert photo_count(service.config) == 1


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = png_bomb()
    assert len(bomb) < 200_000
    try:
        photos.inspect_photo(bomb, 10_000_000)
    except photos.PhotoError as e:
        assert e.reason == "too_large"
    else:
        raise AssertionError("a 49-megapixel PNG was accepted")
    with Image.open(io.BytesIO(jpeg())) as ok:
        assert ok.width * ok.height < photos.MAX_PIXELS


async def test_a_streamed_download_is_stopped_at_the_limit(aiohttp_server):
    from voicebot.channels.wechat.api import MediaTooLarge, WechatApi
    from voicebot.config import WechatConfig
    from voicebot.testing.wechat_emulator import EmulatorAccount, WechatEmulator

    cdn_emulator = WechatEmulator(account=EmulatorAccount(chunked_media=True))
    server = await aiohttp_server(cdn_emulator.app)
    huge = cdn_emulator.put_media(b"RIFF" + bytes(64 * 1024 * 1024))  # 64 MB, no Content-Length
    small = cdn_emulator.put_media(jpeg(), kind="image")
    config = WechatConfig(app_id=cdn_emulator.account.app_id, app_secret=cdn_emulator.account.app_secret,
                          api_base=str(server.make_url("")).rstrip("/"))
    async with WechatApi(config) as api:
        assert await api.download_media(small, max_bytes=1_000_000) == jpeg()
        try:
            await api.download_media(huge, max_bytes=5_000_000)
        except MediaTooLarge:
            pass
        else:
            raise AssertionError("a 64 MB download went through a 5 MB limit")
