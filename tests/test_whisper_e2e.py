"""Mandarin and English voice notes through WeChat, end to end, recognised by Whisper.

A buyer and the seller speak (espeak-ng voices, AMR-NB as WeChat sends them); the emulator
serves the notes, the service fetches and decodes them, Whisper (biased with the catalog)
recognises them, the dialogue acts, and spoken replies go out through custom/send. Money and
stock changes run with the default dialogue settings: one Whisper was unsure of is read back, and
the speaker answers 对 by voice, as Guo would. The sentences are ones Whisper base
hears well enough from espeak-ng's Mandarin (far from a person's voice); the notes are
made without dither and decoded on one seeded thread, so they are heard the same way every run.
A new product's name is not in the catalog prompt and comes out misheard; the test checks what
holds for any hearing of it (its price and stock, or a question and no change).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_wechat_e2e import assert_spoken, serve_emulator, voice_payloads
from wechat_service import SELLER, Service, shop_service

from voicebot.shop.facade import Shop
from voicebot.testing.voices import EN_VOICES, ZH_VOICES, Voice, voice_note

pytestmark = pytest.mark.slow

ZH_PRODUCTS = [("绿松石手链", 200, 10, "条"), ("蜂蜜", 45, 5, "瓶")]
EN_PRODUCTS = [("honey", 30, 5, "jar"), ("turquoise bracelet", 200, 10, "piece")]


def whisper_asr(models_dir: Path) -> dict[str, Any]:
    return {"models_dir": str(models_dir), "engine_by_language": {"zh": "whisper", "en": "whisper"},
            "whisper_workers": 1, "whisper_cpu_threads": 1}  # one thread: the same result every run


def _catalog(service: Service) -> dict[str, dict[str, Any]]:
    with Shop.open(service.config) as shop:
        return {p["name"]: p for p in shop.list_products()}


def _pending(service: Service, openid: str) -> bool:
    """Is the dialogue waiting for this user's answer (a read-back or a question)?"""
    with Shop.open(service.config) as shop:
        rows = list(shop.village.query("SELECT state_json FROM dialogue_state WHERE user = ?", [openid]))
    return any(json.loads(r["state_json"] or "{}").get("pending") for r in rows)


class Speaker:
    """One WeChat user who talks to the shop by voice notes."""

    def __init__(self, service: Service, user: Any, voice: Voice, folder: Path) -> None:
        self.service, self.user, self.voice, self.folder = service, user, voice, folder
        self.count = 0

    async def says(self, text: str, voice: Voice | None = None) -> dict[str, Any]:
        """Send ``text`` as a voice note; the conversation-log row of that note once it is handled."""
        self.count += 1
        # synthesised in a thread: the service shares this event loop and must not wait for the voice
        amr = await asyncio.to_thread(voice_note, text, voice or self.voice, self.folder,
                                      f"{self.user.openid}-{self.count}")
        delivery = await self.user.send_voice(amr)
        assert delivery.status == 200
        await self.service.settle(timeout=600)
        with Shop.open(self.service.config) as shop:
            row = shop.list_messages(user=self.user.openid, direction="in")[0]
        assert row["kind"] == "voice" and row["status"] == "replied", row
        return row

    async def changes(self, text: str) -> dict[str, Any]:
        """Say a shop change; when it is read back, answer 对 (by voice). The row of the change."""
        row = await self.says(text)
        if _pending(self.service, self.user.openid):
            answer = await self.says("对")
            assert not _pending(self.service, self.user.openid), answer  # the 对 was heard: done
        return row


async def test_zh_buyer_orders_and_seller_sells_and_adds_by_voice(aiohttp_server, tmp_path: Path, whisper_models_dir: Path) -> None:
    emulator = await serve_emulator(aiohttp_server)
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS, asr=whisper_asr(whisper_models_dir))
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/healthz") as resp:
        health = await resp.json()
    assert health["status"] == "ok" and health["asr"]["languages"]["zh"]["engine"] == "whisper", health
    async with service.client() as wx:
        buyer = Speaker(service, wx.user(), ZH_VOICES[2], tmp_path / "notes")
        seller = Speaker(service, wx.user(SELLER), ZH_VOICES[2], tmp_path / "notes")

        asked = await buyer.says("绿松石手链多少钱")
        assert (asked["intent"]["intent"], asked["intent"]["product"]) == ("ask_price", "绿松石手链"), asked
        assert "两百" in asked["reply_text"]
        assert asked["transcript"] and asked["timings"]["asr"] > 0

        # (我要两条… came out as the prompt's 绿松石手链 alone: a product named alone is answered with its price)
        ordered = await buyer.changes("给我两条绿松石手链")
        intent = ordered["intent"]
        assert (intent["intent"], intent["product"], intent["quantity"]) == ("place_order", "绿松石手链", 2), ordered
        assert "四百" in ordered["reply_text"] or "对吗" in ordered["reply_text"]

        sold = await seller.changes("卖了两条绿松石手链")  # heard as 买了…: for a seller still a sale
        intent = sold["intent"]
        assert (intent["intent"], intent["product"], intent["quantity"]) == ("record_sale", "绿松石手链", 2), sold

        # A name the catalog prompt does not know comes out as some other characters (红枣 -> 蜂桥, 红早,
        # 洪灶 ... depending on the machine's int8 kernels): whatever was heard, the shop either gains
        # exactly this product at the spoken amounts, or nothing changes and the seller is asked.
        before = _catalog(service)
        added = await seller.says("上架红枣，二十块，十包")
        new = {name: row for name, row in _catalog(service).items() if name not in before}
        if new:
            ((name, row),) = new.items()
            assert (row["price_fen"], row["stock"]) == (2000, 10), (name, row, added)
        else:
            assert _pending(service, seller.user.openid), added
        assert {n: (r["price_fen"], r["stock"]) for n, r in _catalog(service).items() if n in before} == {
            n: (r["price_fen"], r["stock"]) for n, r in before.items()}, added

    with Shop.open(service.config) as shop:
        orders = shop.list_orders()
        assert shop.product("绿松石手链")["stock"] == 10 - 2 - 2 and shop.product("蜂蜜")["stock"] == 5
    assert sorted(o["total_fen"] for o in orders) == [40000, 40000]
    replies = voice_payloads(emulator, buyer.user.openid)
    assert len(replies) == buyer.count  # one spoken reply per note (a read-back and its 对 included)
    for audio in replies:
        assert_spoken(audio)


async def test_en_buyer_orders_by_voice(aiohttp_server, tmp_path: Path, whisper_models_dir: Path) -> None:
    emulator = await serve_emulator(aiohttp_server)
    service = await shop_service(aiohttp_server, tmp_path, emulator, EN_PRODUCTS,
                                 shop={"language": "en", "currency": "USD"}, asr=whisper_asr(whisper_models_dir))
    async with service.client() as wx:
        buyer = Speaker(service, wx.user(), EN_VOICES[1], tmp_path / "notes")
        asked = await buyer.says("how much is honey")
        assert (asked["intent"]["intent"], asked["intent"]["product"]) == ("ask_price", "honey"), asked
        assert "thirty" in asked["reply_text"].lower()
        wants = await buyer.says("i want to buy honey")  # the bot then asks how many
        assert (wants["intent"]["intent"], wants["intent"]["product"]) == ("place_order", "honey"), wants
    replies = voice_payloads(emulator, buyer.user.openid)
    assert len(replies) == 2
    for audio in replies:
        assert_spoken(audio)
