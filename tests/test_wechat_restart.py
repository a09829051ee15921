"""A service killed with SIGKILL in the middle of a message finishes it after a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from test_wechat_e2e import KO_PRODUCTS, assert_spoken, korean_voice_note, voice_payloads
from wechat_service import AES_KEY, TOKEN, only_inbound, seed, wechat_config

from voicebot.testing.wechat_emulator import WechatEmulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, data_dir: Path, port: int, emulator: WechatEmulator, api: str) -> None:
    path.write_text(
        f'[server]\ndata_dir = "{data_dir}"\nport = {port}\n'
        '[shop]\nlanguage = "ko"\ncurrency = "KRW"\n'
        "[asr]\nworkers = 1\n"
        f'[wechat]\nenabled = true\napp_id = "{emulator.account.app_id}"\napi_base = "{api}"\n'
        'reply_mode = "customer_service"\n',
        encoding="utf-8",
    )


async def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120, asr: bool = True) -> None:
    """Until ``/healthz`` answers 200 (and, with ``asr``, speech recognition is ready)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "voicebot serve exited"
            try:
                async with session.get(url + "/healthz") as r:
                    if r.status == 200 and (not asr or (await r.json())["asr"]["ready"]):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError("voicebot did not become healthy")


async def test_killed_service_finishes_accepted_message_after_restart(aiohttp_server, tmp_path, store_env):
    emulator = WechatEmulator()
    fetching, release = asyncio.Event(), asyncio.Event()

    @web.middleware
    async def hold_media(request: web.Request, handler):
        if request.path == "/cgi-bin/media/get":
            fetching.set()
            await release.wait()
        return await handler(request)

    emulator.app.middlewares.append(hold_media)
    server = await aiohttp_server(emulator.app)
    api = str(server.make_url("")).rstrip("/")
    data_dir, port = tmp_path / "data", free_port()
    config_path = tmp_path / "voicebot.toml"
    write_config(config_path, data_dir, port, emulator, api)
    config = wechat_config(data_dir, api, emulator, shop={"language": "ko"})
    seed(config, KO_PRODUCTS)
    env = {**os.environ, "VOICEBOT_WECHAT__TOKEN": TOKEN, "VOICEBOT_WECHAT__ENCODING_AES_KEY": AES_KEY,
           "VOICEBOT_WECHAT__APP_SECRET": emulator.account.app_secret, **store_env(config.db_path)}
    cmd = [sys.executable, "-m", "voicebot", "serve", "--config", str(config_path)]
    url = f"http://127.0.0.1:{port}"

    log_path = tmp_path / "first.log"
    first = subprocess.Popen(cmd, env=env, stderr=log_path.open("wb"))
    try:
        await wait_healthy(url, first)
        from voicebot.testing.wechat_client import WechatClient

        async with WechatClient(url + "/wechat", TOKEN, app_id=emulator.account.app_id, emulator=emulator,
                                mode="safe", encoding_aes_key=AES_KEY) as wx:
            buyer = wx.user()
            delivery = await buyer.send_voice(korean_voice_note(tmp_path, "사과 얼마 예요"))
            assert delivery.status == 200  # accepted: committed to the inbox before the answer
            await asyncio.wait_for(fetching.wait(), 30)  # the run is in the middle of fetching the audio
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    row = only_inbound(config, buyer.openid)
    assert row["status"] == "processing" and emulator.sent == []
    logs = log_path.read_text(encoding="utf-8")
    assert '"event": "inbox.accepted"' in logs
    assert TOKEN not in logs and emulator.account.app_secret not in logs and AES_KEY not in logs
    assert not os.environ.get("PGPASSWORD") or "VOICEBOT_STORAGE__URL" not in env or os.environ["PGPASSWORD"] not in logs

    release.set()
    second = subprocess.Popen(cmd, env=env, stderr=(tmp_path / "second.log").open("wb"))
    try:
        await wait_healthy(url, second)
        for _ in range(600):
            if voice_payloads(emulator, buyer.openid):
                break
            await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    (audio,) = voice_payloads(emulator, buyer.openid)
    assert_spoken(audio)
    row = only_inbound(config, buyer.openid)
    assert row["status"] == "replied" and row["intent"]["product"] == "사과"
