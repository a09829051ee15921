"""Console isolation in a real browser (Debian's Chromium driven by Playwright): a helper of shop A walks
every console route with shop B's ids and gets "not found", never B's data; on her own shop she lists a
product and attaches a photo through the forms (a real multipart upload)."""

from __future__ import annotations

import pytest
from console_helpers import PASSWORD
from console_village import HELPER_A, console_routes, fill, jpeg, village
from playwright.async_api import async_playwright
from test_console_browser import CHROMIUM_ARGS

from voicebot.shop.facade import Shop

pytestmark = pytest.mark.slow


async def test_a_helper_of_one_shop_tries_every_route_of_the_other_in_a_browser(aiohttp_server, tmp_path):
    v = await village(aiohttp_server, tmp_path)
    config, base = v.service.config, v.service.url
    b_ids = v.ids["b"]
    photo = tmp_path / "walnuts.jpg"
    photo.write_bytes(jpeg("brown"))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(base + "/console/")
            await page.fill("input[name=name]", HELPER_A)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/console/")
            assert "helper of" in await page.inner_text("nav") and await page.locator("#shop-picker").count() == 0
            csrf = await page.locator("input[name=csrf]").first.get_attribute("value")

            tried = []
            for method, pattern in console_routes(v.service.app):
                if "{" not in pattern:
                    continue
                path = fill(pattern, b_ids)
                assert path is not None, pattern
                if method == "GET":
                    response = await page.goto(base + path)
                    status, body = response.status, await page.content()
                else:  # a form post from this page, with the session's cookie and CSRF token
                    response = await page.request.post(base + path, form={
                        "csrf": csrf, "price": "1", "stock": "0", "status": "cancelled", "text": "卖完了",
                        "op": "apply", "previewed": "卖完了", "name": "偷来的货", "quantity": "1",
                        "product": str(b_ids["product"])})
                    status, body = response.status, await response.text()
                assert status == 404, (method, path, status)
                assert "李姐" not in body and "五十块" not in body, (method, path)
                tried.append(path)
            for path in ("/console/", "/console/outbox", "/console/shop", "/console/dashboard", "/console/village"):
                response = await page.goto(f"{base}{path}?shop={v.ids['b']['shop']}")
                body = await page.content()
                assert response.status in (200, 404) and "李姐蜂蜜" not in body, path
                assert f"/console/media/photo/{b_ids['photo']}" not in body, path
                tried.append(path)
            with_ids = [p for _, p in console_routes(v.service.app) if "{" in p]
            assert len(tried) == len(with_ids) + 5 and len(with_ids) >= 12, tried  # 4 media, 8 pages and forms

            # her own shop: list a product for the seller, then attach the station's photo to it
            await page.goto(base + "/console/shop")
            assert await page.get_attribute("#shop-name", "data-shop-id") == str(v.a)
            await page.fill("#add-product input[name=name]", "核桃")
            await page.fill("#add-product input[name=price]", "30")
            await page.fill("#add-product input[name=stock]", "12")
            await page.fill("#add-product input[name=unit]", "斤")
            await page.click("#add-product button[type=submit]")
            assert "Listed 核桃" in await page.inner_text("p.flash")
            row = page.locator("#products tr").filter(has_text="核桃")
            await row.locator("input[type=file]").set_input_files(str(photo))
            await row.locator("button.attach").click()
            assert "attached" in await page.inner_text("p.flash")
            assert await page.locator("#products tr").filter(has_text="核桃").locator("img.thumb").count() == 1
            assert not errors, errors
        finally:
            await browser.close()
    with Shop.open(config) as one:
        a, b = Shop(one.village, config, v.a), Shop(one.village, config, v.b)
        assert a.product("核桃")["stock"] == 12 and len(a.product_photos("核桃")) == 1
        assert b.find_product("核桃") is None and b.find_product("偷来的货") is None
        assert b.product("土蜂蜜")["price_fen"] == 5000 and b.product("土蜂蜜")["stock"] == 8
        assert [o["status"] for o in b.list_orders()] == ["confirmed"]
