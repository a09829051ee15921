"""What every console view shares: app keys, the session guard, rendering and database calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from voicebot.app_keys import DB
from voicebot.console import sessions
from voicebot.console.login_limits import HashGate, LoginLimiter
from voicebot.console.reads import READS

JINJA = web.AppKey("console_jinja", jinja2.Environment)
LIMITER = web.AppKey("console_limiter", LoginLimiter)
HASHES = web.AppKey("console_hashes", HashGate)
SESSION = web.RequestKey("console_session", dict)  # {user_id, name, csrf}
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
    """Run ``fn(db, *args)`` on the database thread (``db`` is the sqlite_utils Database)."""
    return request.app[DB].run(lambda shop: fn(shop.village, *args))


def db_read(request: web.Request, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Run the read-only ``fn(db, *args)`` on the console's own read connection."""
    return request.app[READS].run(fn, *args)


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    context = {"session": request.get(SESSION), "path": request.path, **context}
    return aiohttp_jinja2.render_template(template, request, context, status=status, app_key=JINJA)


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
        session = await db_read(request, sessions.lookup, token) if token else None
        if session is None:
            if request.method == "GET" and not path.startswith(f"{PREFIX}/media/"):
                raise web.HTTPFound(f"{PREFIX}/login")
            raise web.HTTPUnauthorized(text="log in first")
        if request.method not in SAFE_METHODS:
            given = request.headers.get("X-CSRF-Token")
            if given is None:
                given = (await request.post()).get("csrf")
            if not sessions.same_token(given if isinstance(given, str) else None, session["csrf"]):
                raise web.HTTPForbidden(text="the form is out of date (CSRF token missing or wrong); reload the page")
        request[SESSION] = session
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    if not path.startswith(f"{PREFIX}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response
