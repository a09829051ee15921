"""The village market in a real browser (Debian's Chromium through Playwright): two shops on the front
page, a speaker that says a shop's name and goods, and a shop's photo that leads into that shop's chat
with that shop's goods (and not the other's). espeak-ng speaks Chinese here (the test is about which
words are said, not the voice).
"""

from __future__ import annotations

import aiohttp
import pytest
from playwright import async_api as playwright_api
from test_web_browser import ARTIFACTS, wait_event, wait_js
from test_web_greeting_browser import launch
from web_service import WebService, start_web, web_config

from voicebot.channels.web import links
from voicebot.shop.shops import add_shop
from voicebot.store.scoped import ShopDb
from voicebot.testing.speech import espeak_wav, wav_duration

pytestmark = pytest.mark.slow

ESPEAK = {"tts": {"engines": {"zh": "espeak", "en": "espeak", "ko": "espeak"}}}
GUO = [("绿松石手链", 200, 10, "条"), ("蜂蜜", 45, 5, "瓶")]
LI = [("腊肉", 60, 8, "斤"), ("米酒", 30, 6, "瓶")]


@pytest.fixture
async def service(aiohttp_server, tmp_path) -> WebService:
    config = web_config(tmp_path / "data", shop={"name": "郭姐的店"}, **ESPEAK)
    service = await start_web(aiohttp_server, config, GUO)
    with service.shop() as shop:
        li = add_shop(shop.village, "李家腊肉", code="lijia")
        for name, price, stock, unit in LI:
            shop.other(li["id"]).add_product(name, price, stock, unit=unit)
        service.li_link = links.shop_link(ShopDb(shop.village, li["id"]))
    return service


async def test_two_shops_a_spoken_name_and_the_way_into_one_of_them(service, tmp_path):
    async with aiohttp.ClientSession() as s, s.get(f"{service.url}/chat/{service.li_link}/say/offline"):
        pass  # the TTS worker's first espeak call sometimes ignores the rate (see test_web_greeting.py)
    async with playwright_api.async_playwright() as p:
        browser = await launch(p, "no-user-gesture-required")
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844})
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(service.url + "/")
            shops = page.locator("article.shop")
            assert await shops.count() == 2
            li = page.locator(f'article.shop:has(a.enter[href="/chat/{service.li_link}"])')
            assert await li.count() == 1
            qr = li.locator(".qr-box svg")  # its code, for the station to print: whole, not cropped by its box
            assert await qr.count() == 1
            drawn = await qr.evaluate("(svg) => { const v = svg.viewBox.baseVal, r = svg.getBoundingClientRect();"
                                      " return [v.width, v.height, r.width, r.height, svg.width.baseVal.value]; }")
            assert drawn[0] == drawn[1] == drawn[4] and drawn[2] == drawn[3] >= 150, drawn
            # the speaker says the shop's name and goods, to the end
            await li.locator(".speak").click()
            done = ("(() => { const p = document.getElementById('player');"
                    f" return p.src.endsWith('/chat/{service.li_link}/say/name') && p.ended && !p.error; }})()")
            await wait_js(page, done, timeout=60_000)
            played = await page.evaluate("document.getElementById('player').duration")
            said = wav_duration(espeak_wav("李家腊肉，卖腊肉，米酒。", "cmn-latn-pinyin+f3", tmp_path / "n.wav", rate=160))
            assert 0.8 * said < played < 1.2 * said, (played, said)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "web-market-390x844.png"), full_page=True)
            # her photo leads into her chat: her goods, her greeting, not the other shop's
            await li.locator("a.enter").click()
            await page.wait_for_url(f"**/chat/{service.li_link}")
            (greeting,) = await wait_event(page, "greeting", timeout_s=30)
            assert greeting["text"].startswith("欢迎来到李家腊肉")
            names = await page.locator(".card .name").all_text_contents()
            assert [n.split(" · ")[0] for n in names] == ["腊肉", "米酒"]
            assert await page.title() == "李家腊肉"
            await page.locator("#home").click()  # and back to the market, by a house, no words
            await page.wait_for_url(service.url + "/")
            assert await page.locator("article.shop").count() == 2
            assert errors == []
            await context.close()
        finally:
            await browser.close()
