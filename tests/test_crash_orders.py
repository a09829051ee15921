"""SIGKILL `voicebot serve` while buyers have several orders in flight, restart it, and check
that every order message became exactly one order and the stock fell by exactly what was ordered."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_wechat_restart import free_port, wait_healthy
from wechat_service import AES_KEY, TOKEN, seed, wechat_config

from voicebot.shop.facade import Shop
from voicebot.testing.wechat_client import WechatClient
from voicebot.testing.wechat_emulator import WechatEmulator

BUYERS, ORDERS_EACH, STOCK = 3, 4, 100


def unfinished(config) -> int:
    with Shop.open(config) as shop:
        return sum(m["status"] in ("received", "processing") for m in shop.list_messages(direction="in"))


@pytest.mark.parametrize("kill_after_s", [0.0, 0.15, 0.4])
async def test_orders_in_flight_survive_sigkill_exactly_once(aiohttp_server, tmp_path: Path, kill_after_s: float,
                                                            store_env):
    emulator = WechatEmulator()
    server = await aiohttp_server(emulator.app)
    api = str(server.make_url("")).rstrip("/")
    data_dir, port = tmp_path / "data", free_port()
    config_path = tmp_path / "voicebot.toml"
    config_path.write_text(
        f'[server]\ndata_dir = "{data_dir}"\nport = {port}\n[shop]\nlanguage = "zh"\n[asr]\nworkers = 1\n'
        # espeak: exactly-once is under test, not the voice (Kokoro makes 24 replies take a minute here)
        '[tts]\nengines = { zh = "espeak" }\n'
        f'[wechat]\nenabled = true\napp_id = "{emulator.account.app_id}"\napi_base = "{api}"\n'
        'reply_mode = "customer_service"\n', encoding="utf-8")
    config = wechat_config(data_dir, api, emulator)
    seed(config, [("蜂蜜", 45, STOCK, "瓶")])
    env = {**os.environ, "VOICEBOT_WECHAT__TOKEN": TOKEN, "VOICEBOT_WECHAT__ENCODING_AES_KEY": AES_KEY,
           "VOICEBOT_WECHAT__APP_SECRET": emulator.account.app_secret, **store_env(config.db_path)}
    cmd = [sys.executable, "-m", "voicebot", "serve", "--config", str(config_path)]
    url = f"http://127.0.0.1:{port}"

    first = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    accepted = 0
    try:
        await wait_healthy(url, first, 60, asr=False)
        async with WechatClient(url + "/wechat", TOKEN, app_id=emulator.account.app_id, emulator=emulator,
                                mode="safe", encoding_aes_key=AES_KEY, timeout_s=2) as wx:
            buyers = [wx.user() for _ in range(BUYERS)]

            async def orders(buyer):
                return [await wx.post_once(wx.prepare(buyer.text(f"我要{n}瓶蜂蜜")))
                        for n in ("一", "两", "三", "一")[:ORDERS_EACH]]

            sending = asyncio.gather(*(orders(b) for b in buyers))
            await asyncio.sleep(kill_after_s)
            first.send_signal(signal.SIGKILL)  # mid-batch: some acked, some running, some unsent
            first.wait()
            results = await sending
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    accepted = sum(a.status == 200 for batch in results for a in batch)
    ordered_per_message = {"一": 1, "两": 2, "三": 3}

    second = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    try:
        await wait_healthy(url, second, 60, asr=False)
        deadline = time.monotonic() + 120  # a backlog of 12 runs, on a shared machine
        while unfinished(config) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    with Shop.open(config) as shop:
        inbound = shop.list_messages(direction="in")
        orders = shop.list_orders()
        stock = shop.product("蜂蜜")["stock"]
    assert unfinished(config) == 0
    assert len(inbound) >= accepted  # every acknowledged message is in the inbox
    assert len(orders) == len(inbound)  # one order per order message: none lost, none doubled
    wanted = sum(ordered_per_message[m["transcript"][2]] for m in inbound)
    assert stock == STOCK - wanted == STOCK - sum(o["items"][0]["quantity"] for o in orders)
