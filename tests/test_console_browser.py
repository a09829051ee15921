"""The operator console in a real browser (Debian's Chromium driven by Playwright), on a shop seeded by
real messages: a Korean voice note (espeak-ng -> AMR -> emulated WeChat -> Vosk) and Chinese text.

Screenshots of the conversation page and the dashboard are kept in ``artifacts/`` (not in git).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from console_helpers import OPERATOR, PASSWORD, console_service
from playwright.async_api import Page, async_playwright
from wechat_service import SELLER

from voicebot.shop.facade import Shop
from voicebot.testing.speech import convert, espeak_wav, pad_silence

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PRODUCTS = [("绿松石手链", 200, 10, "条"), ("蜂蜜", 45, 5, "瓶"), ("사과", 3000, 10, "개")]
BUYER = "oBuyerKim000000000000000000"


def korean_voice_note(tmp_path: Path, text: str) -> bytes:
    wav = pad_silence(espeak_wav(text, "ko", tmp_path / "q.wav"), tmp_path / "q-padded.wav", 0.3, 0.5)
    return convert(wav, "amr-nb", tmp_path / "q.amr").read_bytes()


async def assert_plays(page: Page, selector: str) -> float:
    """Press play on an <audio>; it must load, reach a duration > 0, play and report no error."""
    audio = page.locator(selector).first
    await audio.evaluate("a => a.play()")
    handle = await page.wait_for_function(
        """el => el.error ? 'error ' + el.error.code
             : (el.duration > 0 && Number.isFinite(el.duration) && (el.currentTime > 0 || el.ended)) ? el.duration
             : null""",
        arg=await audio.element_handle(), timeout=15000,
    )
    value = await handle.json_value()
    assert isinstance(value, (int, float)) and value > 0, value
    await audio.evaluate("a => a.pause()")
    return value


async def test_operator_hears_corrects_edits_and_logs_out(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path, PRODUCTS, shop={"language": "ko", "currency": "CNY"})
    config = service.config
    with Shop.open(config) as shop:  # the seller speaks Chinese; the shop's default language is Korean
        shop.customer("wechat", SELLER, language="zh")
    async with service.client() as wx:
        await wx.user(SELLER).send_text("卖了三条手链给张三")  # she sold two: a slip the operator fixes
        await wx.user(BUYER).send_voice(korean_voice_note(tmp_path, "사과 얼마 예요"))
        await service.settle()
    with Shop.open(config) as shop:
        (sale,) = shop.list_messages(user=SELLER, direction="in")
        (voice,) = shop.list_messages(user=BUYER, direction="in")
        assert shop.product("绿松石手链")["stock"] == 7
    assert voice["kind"] == "voice" and voice["status"] == "replied" and "사과" in voice["transcript"]
    ARTIFACTS.mkdir(exist_ok=True)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            # log in
            await page.goto(service.url + "/console/")
            assert page.url.endswith("/console/login")
            await page.fill("input[name=name]", OPERATOR)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/console/")

            # find the voice note by searching its transcript, open it, play what was heard and said
            await page.fill("#search", "사과")
            await page.click("form[role=search] button[type=submit]")
            rows = page.locator("#conversations tbody tr[data-message-id]")
            assert await rows.count() == 1
            await page.screenshot(path=str(ARTIFACTS / "console-search.png"), full_page=True)
            await rows.first.locator("a").first.click()
            await page.wait_for_url(f"**/console/messages/{voice['id']}")
            assert "사과" in await page.inner_text("#transcript")
            assert "ask_price" in await page.inner_text("#intent")
            assert "asr" in await page.inner_text("#timings")
            heard = await assert_plays(page, "#voice-in")
            said = await assert_plays(page, "audio.voice-out")
            assert 0.5 < heard < 30 and 0.5 < said < 30
            await page.screenshot(path=str(ARTIFACTS / "console-conversation.png"), full_page=True)

            # correct the seller's sale: preview, then apply
            await page.goto(service.url + "/console/?q=" + "手链")
            await page.locator(f"tr[data-message-id='{sale['id']}'] a").first.click()
            await page.fill("#correct input[name=text]", "卖了两条手链给张三")
            await page.click("#correct button[value=preview]")
            preview = await page.inner_text("#preview")
            assert "would be: record_sale 绿松石手链 ×2 → 张三" in preview
            assert "undo: order #1: 绿松石手链 ×3" in preview and "绿松石手链 ×2" in preview.split("then:")[1]
            with Shop.open(config) as shop:  # a preview changes nothing
                assert shop.product("绿松石手链")["stock"] == 7
            await page.click("#apply")
            await page.wait_for_selector(".flash")
            assert "Corrected to “record_sale 绿松石手链 ×2 → 张三”" in await page.inner_text(".flash")
            with Shop.open(config) as shop:
                assert shop.product("绿松石手链")["stock"] == 8
                orders = shop.list_orders()
                assert [[(i["name"], i["quantity"]) for i in o["items"]] for o in orders] == [[("绿松石手链", 2)]]
                assert orders[0]["customer_name"] == "张三"
                notice = shop.village.execute(
                    "SELECT user, kind, payload_json, media_path FROM outbox WHERE payload_json LIKE '%correction%'"
                ).fetchone()
            assert notice[0] == SELLER and notice[1] == "voice" and "听错" in json.loads(notice[2])["text"]
            assert Path(notice[3]).read_bytes().startswith(b"#!AMR")

            # the corrections download holds it as a test case
            async with page.expect_download() as download:
                await page.click("a[href='/console/corrections.jsonl']")
            lines = Path(await (await download.value).path()).read_text(encoding="utf-8").splitlines()
            assert json.loads(lines[0]) == {
                "lang": "zh", "role": "seller", "products": "绿松石手链,蜂蜜,사과", "text": "卖了两条手链给张三",
                "expect": {"intent": "record_sale", "product": "绿松石手链", "quantity": 2, "price": None,
                           "customer": "张三"},
            }

            # edit a price in the shop
            await page.click("nav a[href='/console/shop']")
            row = page.locator("#products tr", has_text="蜂蜜")
            await row.locator("input[name=price]").fill("50")
            await row.locator("button[type=submit]").click()
            await page.wait_for_selector(".flash")
            with Shop.open(config) as shop:
                assert shop.product("蜂蜜")["price_fen"] == 5000

            await page.click("nav a[href='/console/dashboard']")
            assert await page.locator("#chart-timing svg rect").count() >= 2
            await page.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)

            # log out: the media is gone with the session
            await page.click("#logout")
            await page.wait_for_url("**/console/login")
            media = await page.request.get(f"{service.url}/console/media/in/{voice['id']}", max_redirects=0)
            assert media.status in (401, 302, 303)
            assert not errors, errors
        finally:
            await browser.close()
    await service.settle()  # the spoken notice of the correction reaches the seller
    assert any(s.payload["msgtype"] == "voice" for s in service.emulator.sent_to(SELLER)[1:])
