"""A running voicebot with the WeChat channel, wired to a local WeChat emulator (test helper)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicebot.app import PIPELINE, create_app, settle
from voicebot.config import Config, load_config
from voicebot.shop.facade import Shop
from voicebot.testing.wechat_client import WechatClient
from voicebot.testing.wechat_emulator import WechatEmulator

TOKEN = "voicebot-test-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SELLER = "oSellerGuo0000000000000000000"


def wechat_config(data_dir: Path, emulator_url: str, emulator: WechatEmulator, **sections: dict[str, Any]) -> Config:
    overrides: dict[str, dict[str, Any]] = {
        "server": {"data_dir": str(data_dir)},
        "shop": {"language": "zh", "sellers": [SELLER]},
        "asr": {"workers": 1},
        "wechat": {
            "enabled": True,
            "token": TOKEN,
            "app_id": emulator.account.app_id,
            "app_secret": emulator.account.app_secret,
            "encoding_aes_key": AES_KEY,
            "api_base": emulator_url,
            "reply_mode": "customer_service",
        },
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_config(overrides=overrides, environ={})


def seed(config: Config, products: list[tuple[str, float, int, str]]) -> None:
    """Put products in the shop before the service starts (as the CLI would)."""
    with Shop.open(config) as shop:
        for name, price, stock, unit in products:
            shop.add_product(name, price, stock, unit=unit)


@dataclass
class Service:
    config: Config
    app: Any
    url: str
    emulator: WechatEmulator

    @property
    def pipeline(self):
        return self.app[PIPELINE]

    def client(self, mode: str = "safe", timeout_s: float = 5.0) -> WechatClient:
        return WechatClient(
            self.url + self.config.wechat.path,
            TOKEN,
            app_id=self.emulator.account.app_id,
            mode=mode,  # type: ignore[arg-type]
            encoding_aes_key=AES_KEY,
            emulator=self.emulator,
            timeout_s=timeout_s,
        )

    async def settle(self, timeout: float = 60.0) -> None:
        """Wait until every run is finished and the outbox has sent what it can."""
        await asyncio.wait_for(settle(self.app), timeout)


async def start_service(aiohttp_server: Callable, config: Config, emulator: WechatEmulator) -> Service:
    app = create_app(config)
    server = await aiohttp_server(app)
    return Service(config, app, str(server.make_url("")).rstrip("/"), emulator)


async def shop_service(
    aiohttp_server: Callable, tmp_path: Path, emulator: WechatEmulator,
    products: list[tuple[str, float, int, str]] | None = None, **sections: dict[str, Any],
) -> Service:
    """A running service for a shop with ``products``, its data under ``tmp_path``."""
    config = wechat_config(tmp_path / "data", emulator.url, emulator, **sections)
    seed(config, products or [])
    return await start_service(aiohttp_server, config, emulator)


def only_inbound(config: Config, openid: str) -> dict[str, Any]:
    """The one inbound conversation-log row of ``openid`` (fails if there is not exactly one)."""
    with Shop.open(config) as shop:
        (row,) = shop.list_messages(user=openid, direction="in")
    return row
