"""What every console view shares: app keys, the session guard, rendering and database calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from email import policy
from email.parser import BytesParser
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from voicebot.app_keys import CONFIG, DB
from voicebot.console import auth, sessions
from voicebot.console.access import Access
from voicebot.console.login_limits import HashGate, LoginLimiter
from voicebot.console.reads import READS

JINJA = web.AppKey("console_jinja", jinja2.Environment)
LIMITER = web.AppKey("console_limiter", LoginLimiter)
HASHES = web.AppKey("console_hashes", HashGate)
SESSION = web.RequestKey("console_session", dict)  # {user_id, name, csrf, role}
ACCESS = web.RequestKey("console_access", Access)  # the shops this account sees
SHOP_COOKIE = "voicebot_console_shop"  # the shop picked in the console's shop picker ("" = all)
PREFIX = "/console"
PUBLIC = frozenset({f"{PREFIX}/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; media-src 'self'; object-src 'none';"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def db_call(request: web.Request, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Run ``fn(db, *args)`` on the database thread (``db`` is the village-wide database: ``fn`` scopes
    every shop-owned row itself, by an ``Access`` or a ``Shop``)."""
    return request.app[DB].run(lambda shop: fn(shop.village, *args))


def db_read(request: web.Request, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Run the read-only ``fn(db, *args)`` on the console's own read connection."""
    return request.app[READS].run(fn, *args)


def access(request: web.Request) -> Access:
    """Every shop the logged-in account sees (single rows are checked against this)."""
    return request[ACCESS]


def view(request: web.Request) -> Access:
    """The account narrowed to the shop it picked (``?shop=ID``, remembered in a cookie), for lists."""
    picked = request.query.get("shop", request.cookies.get(SHOP_COOKIE, ""))
    return request[ACCESS].pick(int(picked) if picked.isdigit() and len(picked) < 19 else None)


def not_found(what: str) -> web.HTTPNotFound:
    """Another shop's row looks exactly like one that does not exist."""
    return web.HTTPNotFound(text=f"no such {what}")


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    seen = request.get(ACCESS)
    context = {"session": request.get(SESSION), "path": request.path, "access": seen,
               "view": view(request) if seen else None, **context}
    return aiohttp_jinja2.render_template(template, request, context, status=status, app_key=JINJA)


def _session(db: Any, token: str) -> dict[str, Any] | None:
    session = sessions.lookup(db, token)
    if session is not None:
        session["access"] = auth.access_of(db, session["user_id"], session["name"], session["role"])
    return session


FORM = web.RequestKey("console_form", dict)


async def posted(request: web.Request) -> Mapping[str, Any]:
    """The posted form. A multipart one (a photo upload) is parsed from the body the service's body deadline
    has already read: aiohttp's own multipart parser reads the stream, which is gone by then. File fields
    come as bytes, the others as text."""
    if request.content_type != "multipart/form-data":
        return await request.post()
    if FORM not in request:
        head = b"Content-Type: " + request.headers["Content-Type"].encode("latin-1") + b"\r\n\r\n"
        message = BytesParser(policy=policy.HTTP).parsebytes(head + await request.read())
        fields: dict[str, Any] = {}
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str) and name not in fields:
                data = part.get_payload(decode=True) or b""
                fields[name] = data if part.get_filename() is not None else data.decode("utf-8", "replace")
        request[FORM] = fields
    return request[FORM]


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /console URL but the login form and static files needs a session; writes need its CSRF token."""
    path = request.path
    if not is_console(path):
        return await handler(request)
    if path not in PUBLIC and not path.startswith(f"{PREFIX}/static/"):
        token = request.cookies.get(sessions.COOKIE)
        session = await db_read(request, _session, token) if token else None
        if session is None:
            if request.method == "GET" and not path.startswith(f"{PREFIX}/media/"):
                raise web.HTTPFound(f"{PREFIX}/login")
            raise web.HTTPUnauthorized(text="log in first")
        if request.method not in SAFE_METHODS:
            given = request.headers.get("X-CSRF-Token")
            if given is None:
                given = (await posted(request)).get("csrf")
            if not sessions.same_token(given if isinstance(given, str) else None, session["csrf"]):
                raise web.HTTPForbidden(text="the form is out of date (CSRF token missing or wrong); reload the page")
        request[ACCESS] = session.pop("access")
        request[SESSION] = session
    response = await handler(request)
    if "shop" in request.query and request.get(ACCESS) is not None and request.method == "GET":
        picked = view(request).picked
        response.set_cookie(SHOP_COOKIE, str(picked or ""), path=f"{PREFIX}/", httponly=True, samesite="Lax",
                            secure=request.app[CONFIG].console.secure_cookies)
    response.headers.update(SECURITY_HEADERS)
    if not path.startswith(f"{PREFIX}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response
