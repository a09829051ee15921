"""Log in (limited per address, slowed per account: see ``login_limits``) and log out."""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.console import auth, sessions
from voicebot.console.login_limits import LoginRefused
from voicebot.console.web import HASHES, LIMITER, PREFIX, SESSION, db_call, db_read, render
from voicebot.logs import log_event


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=f"{PREFIX}/", httponly=True, samesite="Lax",
        secure=request.app[CONFIG].console.secure_cookies,
    )


def _form(request: web.Request, error: str = "", name: str = "", status: int = 200) -> web.Response:
    token = sessions.new_token()
    response = render(request, "login.html", {"csrf": token, "error": error, "name": name}, status=status)
    _set_cookie(request, response, sessions.LOGIN_COOKIE, token, 3600)
    return response


def _refused(request: web.Request, error: str, name: str, e: LoginRefused, status: int = 429) -> web.Response:
    response = _form(request, error, name, status=status)
    response.headers["Retry-After"] = str(max(1, math.ceil(e.retry_after)))
    return response


async def login_form(request: web.Request) -> web.Response:
    return _form(request)


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    if not sessions.same_token(str(form.get("csrf", "")), request.cookies.get(sessions.LOGIN_COOKIE)):
        return _form(request, "The form expired. Please try again.", name, status=403)
    limiter, remote = request.app[LIMITER], request.remote or ""
    try:
        attempt = limiter.begin(remote, name.lower())  # counted now, before any await: no racing past it
    except LoginRefused as e:
        log_event("console.login_limited", name=name, remote=remote)
        return _refused(request, f"Too many failed logins. Try again in {math.ceil(e.retry_after)} s.", name, e)
    if attempt.delay:  # an account others have been guessing at: slower, never locked
        log_event("console.login_slowed", name=name, remote=remote, delay_s=round(attempt.delay, 2))
        await asyncio.sleep(attempt.delay)
    found = await db_read(request, auth.find_user, name)
    try:
        # argon2 takes tens of milliseconds of CPU and 64 MiB: on the gate's few threads, off the event loop
        user = await request.app[HASHES].run(auth.verify, found, password)
    except LoginRefused as e:
        limiter.withdrawn(attempt)
        log_event("console.login_busy", name=name, remote=remote)
        return _refused(request, "The console is busy. Please try again in a moment.", name, e, status=503)
    if user is None:
        log_event("console.login_failed", name=name, remote=remote)
        return _form(request, "Wrong name or password.", name, status=401)
    limiter.succeeded(attempt)
    hours = request.app[CONFIG].console.session_hours
    token, _csrf = await db_call(request, sessions.create, user["id"], hours)
    log_event("console.login", name=user["name"], remote=request.remote)
    response = web.Response(status=303, headers={"Location": f"{PREFIX}/"})
    _set_cookie(request, response, sessions.COOKIE, token, int(hours * 3600))
    response.del_cookie(sessions.LOGIN_COOKIE, path=f"{PREFIX}/")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(sessions.COOKIE, "")
    await db_call(request, sessions.end, token)
    log_event("console.logout", name=request[SESSION]["name"])
    response = web.Response(status=303, headers={"Location": f"{PREFIX}/login"})
    response.del_cookie(sessions.COOKIE, path=f"{PREFIX}/")
    return response
