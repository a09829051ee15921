"""The browser chat in a real browser: Debian's Chromium (Playwright), a fake microphone that plays
Korean speech made by espeak-ng, the real Vosk model, real espeak-ng replies.

The fake microphone starts its WAV at each getUserMedia (the page opens the mic on every press) and
loops it: the file is padded with silence and the button is released before it could repeat.
A screenshot of the chat at a phone's size is saved in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright import async_api as playwright_api
from web_service import WebService, start_web, web_config

from voicebot.dialogue.replies import say
from voicebot.testing.speech import espeak_wav, pad_silence, wav_duration

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PRODUCTS = [("사과", 3000, 10, "개"), ("배", 5000, 5, "개"), ("꿀", 12000, 3, "병")]
SPOKEN = "배 두 개 주세요"
LEAD_S, TAIL_S = 0.6, 4.0


async def wait_js(page: playwright_api.Page, expression: str, timeout: float = 30_000) -> None:
    """Poll ``expression`` until it is true: the page's CSP forbids the eval behind wait_for_function."""
    deadline = asyncio.get_running_loop().time() + timeout / 1000
    while not await page.evaluate(expression):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still false after {timeout / 1000:g} s: {expression}")
        await asyncio.sleep(0.1)


@pytest.fixture
def speech_wav(tmp_path) -> tuple[Path, float]:
    """The fake microphone's file and how long to hold the button for it."""
    raw = espeak_wav(SPOKEN, "ko", tmp_path / "raw.wav")
    wav = pad_silence(raw, tmp_path / "mic.wav", before=LEAD_S, after=TAIL_S)
    return wav, LEAD_S + wav_duration(raw) + 0.8


@pytest.fixture
async def service(aiohttp_server, tmp_path) -> WebService:
    config = web_config(tmp_path / "data", "ko")
    return await start_web(aiohttp_server, config, PRODUCTS)


@pytest.fixture
async def browser(speech_wav):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--use-fake-ui-for-media-stream",
                  "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={speech_wav[0]}"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_chat(browser, service: WebService, link: str):
    context = await browser.new_context(viewport={"width": 390, "height": 844}, has_touch=False)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{service.url}/chat/{link}")
    await wait_js(page, "window.voicebotChat && window.voicebotChat.events.some(e => e.type === 'welcome')")
    page.errors = errors
    return context, page


async def hold_to_talk(page, seconds: float, slide_up: float = 0) -> None:
    box = await page.locator("#talk").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await asyncio.sleep(seconds)
    if slide_up:
        await page.mouse.move(x, y - slide_up, steps=5)
    await page.mouse.up()


async def events(page, kind: str) -> list[dict]:
    return await page.evaluate(f"window.voicebotChat.events.filter(e => e.type === '{kind}')")


async def wait_event(page, kind: str, count: int = 1, timeout_s: float = 90) -> list[dict]:
    await wait_js(page,
        f"window.voicebotChat.events.filter(e => e.type === '{kind}').length >= {count}", timeout=timeout_s * 1000)
    return await events(page, kind)


async def round_trip(page) -> None:
    """Ping on the page's own socket and wait for the pong: whatever the page sent before has been
    handled by the server, and whatever the server sent before has reached the page."""
    pongs = len(await events(page, "pong"))
    await page.evaluate("window.voicebotChat.ws.send(JSON.stringify({type: 'ping'}))")
    await wait_event(page, "pong", pongs + 1)


async def test_hold_speak_release_hear_the_reply_and_the_shop_acts(browser, service, speech_wav):
    context, page = await open_chat(browser, service, service.buyer_link())
    try:
        assert await page.locator(".card").count() == 3
        await hold_to_talk(page, speech_wav[1])
        (heard,) = await wait_event(page, "heard")
        assert heard["text"].replace(" ", "") == SPOKEN.replace(" ", "")
        (reply,) = await wait_event(page, "reply")
        assert reply["id"] == heard["id"] and ".mp3?" in reply["audio_url"]
        # the reply played by itself, to its end, without an error
        await wait_js(page, "(() => { const p = document.getElementById('player');"
                                     " return p.src.includes('.mp3?') && p.ended; })()", timeout=60_000)
        played = await page.evaluate("(() => { const p = document.getElementById('player');"
                                     " return {duration: p.duration, error: p.error && p.error.code}; })()")
        assert played["duration"] > 0.5 and played["error"] is None
        assert not await page.locator("#alert").is_visible()
        await page.locator(".msg.bot:not(.greeting) .bubble").click()  # tap a voice bubble: it plays again
        await wait_js(page, "(() => { const p = document.getElementById('player');"
                                     " return p.currentTime > 0 && !p.error; })()")
        mine = page.locator(".msg.me")
        assert await mine.count() == 1 and "pending" not in (await mine.get_attribute("class"))
        assert (await mine.locator(".len").text_content()).endswith("″")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "web-chat-390x844.png"))
        assert page.errors == []
    finally:
        await context.close()
    (row,) = service.inbound()
    assert row["kind"] == "voice" and row["transcript"].replace(" ", "") == SPOKEN.replace(" ", "")
    assert row["intent"]["intent"] == "place_order" and row["action_id"] is not None
    assert Path(row["media_path"]).stat().st_size > 1000  # the browser's own recording (WebM/Opus)
    with service.shop() as shop:
        (order,) = shop.list_orders()
        assert [(i["name"], i["quantity"]) for i in order["items"]] == [("배", 2)]


async def test_a_reconnect_during_the_upload_does_not_duplicate(browser, service, speech_wav):
    context, page = await open_chat(browser, service, service.buyer_link())
    try:
        # the socket dies right after the clip is written, before the server's `received` can arrive
        await page.evaluate("""(() => {
            const send = WebSocket.prototype.send;
            WebSocket.prototype.send = function (data) {
                send.call(this, data);
                if (data instanceof Blob && !window.cut) { window.cut = true; this.close(); }
            };
        })()""")
        await hold_to_talk(page, speech_wav[1])
        (received,) = await wait_event(page, "received")
        assert received["duplicate"] is True  # the page sent it again under the same id after reconnecting
        (reply,) = await wait_event(page, "reply")
        assert reply["id"] == received["id"]
        await service.settle()  # every run done and every reply sent: a second reply would be on its way
        await round_trip(page)  # ... and would have reached the page before this pong
        assert len(await events(page, "reply")) == 1 and service.runs_ended() == {"replied": 1}
    finally:
        await context.close()
    assert len(service.inbound()) == 1
    with service.shop() as shop:
        assert len(shop.list_orders()) == 1


async def test_a_clip_recorded_offline_waits_and_goes_when_the_connection_returns(browser, service, speech_wav):
    context, page = await open_chat(browser, service, service.buyer_link())
    try:
        await context.set_offline(True)
        await wait_js(page, "!document.getElementById('net').classList.contains('online')")
        await hold_to_talk(page, speech_wav[1])
        await page.wait_for_selector(".msg.me.pending")
        await wait_js(page, "document.getElementById('player').src.startsWith('blob:')")  # "kept for later"
        assert await page.evaluate("window.voicebotChat.ws === null")  # no socket the clip could have left by
        await service.settle()
        assert service.inbound() == [] and service.runs_ended() == {}
        await context.set_offline(False)
        (reply,) = await wait_event(page, "reply")
        assert await page.locator(".msg.me.pending").count() == 0
        await service.settle()
        assert service.runs_ended() == {"replied": 1}  # the clip that waited ran once
    finally:
        await context.close()
    (row,) = service.inbound()
    assert row["transcript"].replace(" ", "") == SPOKEN.replace(" ", "") and row["status"] == "replied"


async def test_slide_up_cancels_and_the_buyer_page_cannot_do_seller_things(browser, service, speech_wav):
    context, page = await open_chat(browser, service, service.buyer_link())
    seller_context, seller_page = await open_chat(browser, service, service.seller_link("Kim"))
    try:
        await hold_to_talk(page, 1.0, slide_up=150)
        await wait_js(page, "window.voicebotChat.stream === null")  # the recording was finished
        await round_trip(page)  # a clip sent on release would have been received before this pong
        assert await page.locator(".msg.me").count() == 0 and service.inbound() == []
        await service.settle()
        assert service.runs_ended() == {}  # nothing was run either
        # a buyer who forges seller commands on her own socket changes nothing
        await page.evaluate("""(() => { const ws = window.voicebotChat.ws;
            ws.send(JSON.stringify({type: 'text', id: 'x-1', text: '사과 가격 백 원'}));
            ws.send(JSON.stringify({type: 'text', id: 'x-2', text: '사과 다섯 개 팔았어요'})); })()""")
        await wait_event(page, "reply", 2)
        with service.shop() as shop:
            assert [(p["price_fen"], p["stock"]) for p in shop.list_products()] == [(300000, 10), (500000, 5),
                                                                                   (1200000, 3)]
            assert shop.list_orders() == []
        # the speaker button says the product's name and price; the order button starts the order dialogue
        await page.locator(".card").nth(0).locator(".speak").click()
        await wait_js(page, "(() => { const p = document.getElementById('player');"
                                     " return p.src.endsWith('/say/product-1') && p.ended && p.duration > 0.5; })()")
        await page.locator(".card").nth(2).locator(".order").click()
        replies = await wait_event(page, "reply", 3)
        assert replies[-1]["text"] == say("ko", "ask.quantity_place_order", unit="병")
        assert await page.locator(".msg.me .order-bubble").count() == 1  # what she ordered, as a picture
        # she knows which mode she is in: another colour and icon
        colours = [await p.evaluate("getComputedStyle(document.querySelector('.bar')).backgroundColor")
                   for p in (page, seller_page)]
        icons = [await p.evaluate("getComputedStyle(document.querySelector('.mode-icon')).backgroundImage")
                 for p in (page, seller_page)]
        assert colours[0] != colours[1] and icons[0].endswith('bag.svg")') and icons[1].endswith('key.svg")')
        assert (await seller_page.evaluate("window.voicebotChat.events[0].role")) == "seller"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "web-chat-order-390x844.png"))
        await seller_page.screenshot(path=str(ARTIFACTS / "web-chat-seller-390x844.png"))
    finally:
        await context.close()
        await seller_context.close()


async def test_a_refused_microphone_is_said_and_shown(service, tmp_path):
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                                                "--deny-permission-prompts"])
        try:
            context, page = await open_chat(browser, service, service.buyer_link())
            await hold_to_talk(page, 0.5)
            await page.wait_for_selector("#alert", state="visible")
            assert "마이크" in await page.locator("#alert").text_content()
            await wait_js(page, "(() => { const p = document.getElementById('player');"
                                         " return p.src.endsWith('/say/mic_refused') && p.currentTime > 0"
                                         " && !p.error; })()")
            await context.close()
        finally:
            await browser.close()
