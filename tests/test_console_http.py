"""The console over plain HTTP: every URL needs a session, cookies, CSRF, login rate limit, media safety,
escaping of users' text, and the CLI for accounts and corrections."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from console_helpers import OPERATOR, PASSWORD, Browserless, console_service

from voicebot.cli import main
from voicebot.console.sessions import COOKIE, LOGIN_COOKIE
from voicebot.shop.facade import Shop


def _concrete(path: str) -> str:
    """A route pattern with every ``{name}`` / ``{name:regex}`` filled with a plausible value."""
    path = re.sub(r"\{op:[^}]*\}", "retry", path)
    return re.sub(r"\{[^}]*\}", "1", path)


async def test_every_console_route_answers_401_or_login_redirect_without_a_session(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    checked = []
    for route in service.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if not path.startswith("/console") or path == "/console/login" or "prefix" in info:
            continue  # the login form itself and static files (no user data) are public
        if route.method == "HEAD":
            continue
        async with Browserless(service.url) as anon:
            status, _, r = await (anon.get(_concrete(path)) if route.method == "GET"
                                  else anon.post(_concrete(path), {"csrf": "x"}))
        assert status in (401, 302, 303), (route.method, path, status)
        if status != 401:
            assert r.headers["Location"].endswith("/console/login"), path
        if "/media/" in path or route.method != "GET":
            assert status == 401, (route.method, path)
        checked.append((route.method, path))
    assert len(checked) >= 15, checked  # pages, forms and all four media routes were walked


async def test_login_sets_a_safe_cookie_and_logout_ends_the_session(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    async with Browserless(service.url) as op:
        status, _, r = await op.login()
        assert status == 303
        cookie = next(c for c in r.headers.getall("Set-Cookie") if c.startswith(COOKIE + "="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console/" in cookie
        assert "Secure" not in cookie
        status, html, _ = await op.get("/console/")
        assert status == 200 and OPERATOR in html
        assert (await op.post("/console/logout", {"csrf": op.csrf}))[0] == 303
        assert (await op.get("/console/media/in/1"))[0] == 401
        assert (await op.get("/console/"))[0] == 302
    with Shop.open(service.config) as shop:  # the session is gone from the database too
        assert shop.village.execute("SELECT count(*) FROM console_sessions").fetchone()[0] == 0


async def test_secure_cookies_when_configured(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path, console={"secure_cookies": True})
    async with Browserless(service.url) as op:
        status, _, r = await op.post("/console/login", {"csrf": "", "name": OPERATOR, "password": PASSWORD})
        assert status == 403  # no login form token: rejected before the password is even checked
        _, _, r = await op.get("/console/login")
        login_cookie = r.cookies[LOGIN_COOKIE]
        assert login_cookie["secure"] and login_cookie["httponly"]
        # a client only sends a Secure cookie over HTTPS; this test server speaks HTTP, so send it by hand
        status, _, r = await op.post("/console/login", {"csrf": op.csrf, "name": OPERATOR, "password": PASSWORD},
                                     headers={"Cookie": f"{LOGIN_COOKIE}={login_cookie.value}"})
        assert status == 303
        cookie = next(c for c in r.headers.getall("Set-Cookie") if c.startswith(COOKIE + "="))
        assert "Secure" in cookie and "HttpOnly" in cookie


async def test_state_changes_without_the_csrf_token_are_refused(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    with Shop.open(service.config) as shop:
        product = shop.product("蜂蜜")
    async with Browserless(service.url) as op:
        await op.login()
        path = f"/console/shop/products/{product['id']}"
        for token in (None, "", "forged-token"):
            data = {"price": "1", "stock": "1"} | ({} if token is None else {"csrf": token})
            status, _, _ = await op.post(path, data)
            assert status == 403
        status, _, _ = await op.post(path, {"price": "1", "stock": "1"}, headers={"X-CSRF-Token": "nope"})
        assert status == 403
        assert (await op.post("/console/logout", {}))[0] == 403
        with Shop.open(service.config) as shop:
            assert shop.product("蜂蜜")["price_fen"] == 4500 and shop.product("蜂蜜")["stock"] == 5
        status, html, _ = await op.post(path, {"csrf": op.csrf, "price": "48.5", "stock": "7"})
        assert status == 200 and "蜂蜜: price 48.50, stock 7" in html
    with Shop.open(service.config) as shop:
        after = shop.product("蜂蜜")
        assert (after["price_fen"], after["stock"]) == (4850, 7)
        # the edits are the seller's actions: her "undo" takes back the stock change, then the price
        seller = shop.customer("wechat", service.config.shop.sellers[0])["id"]
        assert shop.undo(seller).kind == "adjust_stock"
        assert shop.undo(seller).kind == "set_price"
        assert shop.product("蜂蜜")["price_fen"] == 4500


async def test_stock_of_goods_sold_by_weight_can_be_a_fraction_in_the_console(aiohttp_server, tmp_path):
    """Issue 18 item 3: 半斤 on the console too; more than three decimals is refused, nothing changes."""
    service = await console_service(aiohttp_server, tmp_path)
    with Shop.open(service.config) as shop:
        walnuts = shop.add_product("核桃", 30, 10, "斤")
    async with Browserless(service.url) as op:
        await op.login()
        path = f"/console/shop/products/{walnuts['id']}"
        status, html, _ = await op.post(path, {"csrf": op.csrf, "price": "30", "stock": "12.5"})
        assert status == 200 and "核桃: stock 12.5" in html and 'value="12.5"' in html
        status, _, _ = await op.post(path, {"csrf": op.csrf, "price": "30", "stock": "1.23456"})
        assert status == 400
    with Shop.open(service.config) as shop:
        assert shop.product("核桃")["stock"] == 12.5


async def test_login_attempts_are_limited_per_account_and_per_address(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path,
                                    console={"login_max_failures": 3, "login_window_s": 600.0})
    with Shop.open(service.config) as shop:
        from voicebot.console.auth import add_user

        add_user(shop.db, "bo", "another-password")
    async with Browserless(service.url) as op:
        for _ in range(3):
            assert (await op.login(OPERATOR, "wrong password"))[0] == 401
        status, html, r = await op.login(OPERATOR, PASSWORD)  # even the right password waits now
        assert status == 429 and "Too many failed logins" in html and int(r.headers["Retry-After"]) > 0
        # the same address is limited for every account too
        assert (await op.login("bo", "another-password"))[0] == 429
        assert (await op.get("/console/"))[0] == 302


async def test_unknown_name_and_wrong_password_look_the_same(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    async with Browserless(service.url) as op:
        a = await op.login("nobody", PASSWORD)
        b = await op.login(OPERATOR, "wrong password")
        assert a[0] == b[0] == 401
        assert "Wrong name or password." in a[1] and "Wrong name or password." in b[1]


TRAVERSALS = [
    "../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd", "1/../../etc/passwd",
    "1%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "1;/etc/passwd", "?path=/etc/passwd", "%00", "-1", "1.0",
    "99999999999999999999999",
]


async def test_path_traversal_on_every_media_route_never_reaches_the_filesystem(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    async with service.client() as wx:
        buyer = wx.user()
        await buyer.send_text("蜂蜜多少钱")
        await service.settle()
    with Shop.open(service.config) as shop:
        (msg,) = shop.list_messages(user=buyer.openid, direction="in")
        outbox_id = shop.village.execute("SELECT id FROM outbox WHERE message_id = ?", (msg["id"],)).fetchone()[0]
        # a row whose path points outside the media folders is refused too
        shop.village.execute("UPDATE messages SET kind = 'voice', media_path = '/etc/passwd' WHERE id = ?", (msg["id"],))
        shop.db.conn.commit()
    async with Browserless(service.url) as op:
        await op.login()
        for route in ("in", "reply", "out", "photo"):
            for attack in TRAVERSALS:
                status, body, _ = await op.get(f"/console/media/{route}/{attack}")
                assert status in (400, 404), (route, attack, status)
                assert "root:" not in body
        assert (await op.get(f"/console/media/in/{msg['id']}"))[0] == 404
        # the real reply plays, converted from AMR; a query string names no file
        status, body, r = await op.get(f"/console/media/out/{outbox_id}?path=/etc/passwd")
        assert status == 200 and r.headers["Content-Type"] == "audio/ogg" and "root:" not in body


async def test_users_text_is_escaped_everywhere_and_sql_is_just_text(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    sql = "蜂蜜'; DROP TABLE messages; --"
    async with service.client() as wx:
        buyer = wx.user()
        await buyer.send_text(script)
        await buyer.send_text(sql)
        await service.settle()
    async with Browserless(service.url) as op:
        await op.login()
        pages = ["/console/", "/console/?q=%3Cscript%3E", "/console/?q=DROP+TABLE", "/console/outbox",
                 f"/console/?user={buyer.openid}"]
        with Shop.open(service.config) as shop:
            pages += [f"/console/messages/{m['id']}" for m in shop.list_messages(user=buyer.openid)]
        for page in pages:
            status, html, r = await op.get(page)
            assert status == 200, page
            assert "<script>alert" not in html and "<img src=x" not in html, page
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        status, html, _ = await op.get("/console/?q=%3Cscript%3E")
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
        status, html, _ = await op.get("/console/?q=DROP+TABLE")
        assert "DROP TABLE messages; --" in html and "&lt;script&gt;" not in html  # the search found only that one
    with Shop.open(service.config) as shop:
        assert len(shop.list_messages(user=buyer.openid, direction="in")) == 2


def test_cli_adds_an_operator_from_stdin_and_exports_corrections(tmp_path):
    db = str(tmp_path / "shop.db")
    runner = CliRunner()
    result = runner.invoke(main, ["console", "user", "add", "ana", "--password-stdin", "--db", db, "--json"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert '"name": "ana"' in result.output and "a-long-password" not in result.output
    short = runner.invoke(main, ["console", "user", "add", "bo", "--password-stdin", "--db", db], input="short\n")
    assert short.exit_code != 0 and "at least 8" in short.output
    listed = runner.invoke(main, ["console", "user", "list", "--db", db])
    assert "ana" in listed.output and "bo" not in listed.output
    with Shop.open(_config(tmp_path), db) as shop:
        row = shop.village.execute("SELECT password_hash FROM console_users WHERE name = 'ana'").fetchone()
        assert row[0].startswith("$argon2id$")
    out = tmp_path / "c.jsonl"
    result = runner.invoke(main, ["export", "corrections", "--out", str(out), "--db", db])
    assert result.exit_code == 0 and out.read_text() == ""
    assert runner.invoke(main, ["export", "--db", db]).exit_code == 2  # the CSV export still needs --out


def _config(tmp_path):
    from voicebot.config import load_config

    return load_config(overrides={"server": {"data_dir": str(tmp_path)}}, environ={})


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)


RAW_PATHS = ["/console/static/../messages/1", "/console/static/..%2fmessages/1", "/console/static/%2e%2e/shop",
             "//console/shop", "/console/./shop", "/console%2fshop", "/console/static/../../console/dashboard"]


async def test_odd_paths_never_skip_the_session_check(aiohttp_server, tmp_path):
    import asyncio

    service = await console_service(aiohttp_server, tmp_path)
    host, port = service.url.removeprefix("http://").split(":")
    for path in RAW_PATHS:  # sent byte for byte, as no well-behaved client would normalise them
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await reader.read()
        writer.close()
        status = int(response.split(b" ", 2)[1])
        assert status in (302, 401, 403, 404), (path, response[:200])
        assert b"Shop</h1>" not in response and b"Dashboard</h1>" not in response and b"Message #" not in response
