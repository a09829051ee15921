"""A shop's WeChat QR code: a permanent parametric code (scene = the shop's code), drawn as a PNG.

A follower who scans it sends a ``subscribe`` (``EventKey=qrscene_<code>``) or ``SCAN``
(``EventKey=<code>``) event; :func:`voicebot.channels.wechat.messages.InboundMessage.qr_scene` reads
the code back. Permanent codes are capped per account (100,000), so a created code is remembered
(per account and scene) and reused instead of being created again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from voicebot.channels.web.qr import qr_png
from voicebot.channels.wechat.api import KeyValueCache, MemoryCache, WechatApi, WechatApiError
from voicebot.channels.wechat.messages import SCENE
from voicebot.config import WechatConfig
from voicebot.store.kv import kv_get, kv_set

PERMANENT = "QR_LIMIT_STR_SCENE"
SHOW_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode"
REMEMBER_S = 100 * 365 * 86400.0  # a permanent code does not expire
QR_ERRORS = {
    48001: "this WeChat account may not create QR codes (only verified service accounts can)",
    45029: "this WeChat account has used up its permanent QR codes",
    40053: "WeChat refused the shop's code as a QR scene",
}


def valid_scene(scene: str) -> bool:
    return bool(SCENE.fullmatch(scene))


@dataclass(frozen=True)
class QrCode:
    """One created code: ``url`` is what the code encodes (draw it locally), ``ticket`` fetches
    WeChat's own image (:attr:`image_url`)."""

    scene: str
    ticket: str
    url: str
    expire_seconds: int | None = None  # None: permanent

    @property
    def image_url(self) -> str:
        return f"{SHOW_URL}?ticket={quote(self.ticket, safe='')}"


def _key(app_id: str, scene: str) -> str:
    return f"wechat:qrcode:{app_id}:{scene.lower()}"  # shop codes compare without case


async def shop_qrcode(api: WechatApi, code: str, cache: KeyValueCache | None = None,
                      fresh: bool = False) -> QrCode:
    """The permanent code whose scene is ``code``: remembered in ``cache``, else created."""
    if not valid_scene(code):
        raise ValueError(f"a QR scene is 1-64 letters, digits or _ . : - (got {code[:80]!r})")
    key = _key(api.config.app_id, code)
    if cache is not None and not fresh:
        cached = await cache.get(key)
        if cached is not None:
            data = json.loads(cached[0])
            return QrCode(code, data["ticket"], data["url"])
    result = await api.create_qrcode(PERMANENT, {"scene_str": code})
    qr = QrCode(code, result["ticket"], result["url"], _expiry(result))
    if cache is not None and qr.expire_seconds is None:
        await cache.set(key, json.dumps({"ticket": qr.ticket, "url": qr.url}), api.clock() + REMEMBER_S)
    return qr


def _expiry(result: dict[str, Any]) -> int | None:
    value = result.get("expire_seconds")
    return int(value) if isinstance(value, int | float) and value > 0 else None


def draw_png(qr: QrCode, path: Path) -> Path:
    """The code drawn locally from its ``url`` (what WeChat's own image encodes)."""
    return qr_png(qr.url, path)


def describe_error(e: WechatApiError) -> str:
    """A short sentence for an operator: why the code could not be made."""
    return QR_ERRORS.get(e.errcode or 0, f"WeChat could not create the QR code ({e})")


class KvCache:
    """A :class:`KeyValueCache` on the database's ``kv`` table for a synchronous caller (the CLI), so
    it shares the service's access token (a new token retires the old one) and remembered codes."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    async def get(self, key: str) -> tuple[str, float] | None:
        item = kv_get(self.db, key)
        if item is None or item[1] is None:
            return None
        return item[0], item[1]

    async def set(self, key: str, value: str, expires_at: float) -> None:
        kv_set(self.db, key, value, expires_at)


async def shop_qr_png(config: WechatConfig, code: str, png: Path, db: sqlite_utils.Database | None = None,
                      fresh: bool = False) -> QrCode:
    """Create (or reuse) the shop's permanent code and draw it to ``png``; what the CLI calls.

    With ``db`` the access token and the code are kept in its ``kv`` table, shared with the service.
    """
    if not (config.app_id and config.app_secret):
        raise ValueError("wechat.app_id and wechat.app_secret are needed to create a QR code")
    cache: KeyValueCache = KvCache(db) if db is not None else MemoryCache()
    async with WechatApi(config, token_cache=cache, timeout_s=config.api_timeout_s) as api:
        qr = await shop_qrcode(api, code, cache, fresh=fresh)
    draw_png(qr, png)
    return qr
