"""The operator console under ``/console/``: listen to what the bot heard and said, correct it, see the shop."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from voicebot.config import Config
from voicebot.console import (
    media,
    views_auth,
    views_conversations,
    views_dashboard,
    views_message,
    views_outbox,
    views_shop,
    views_village,
)
from voicebot.console.login_limits import HashGate, LoginLimiter
from voicebot.console.reads import READS, ReadThread
from voicebot.console.web import HASHES, JINJA, LIMITER, PREFIX, console_guard
from voicebot.server import resource_ctx

HERE = Path(__file__).parent


def _id(name: str) -> str:
    """A route part for a row id (at most 18 digits: always a valid SQLite integer)."""
    return "{" + name + r":\d{1,18}}"


async def _to_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{PREFIX}/")


def setup_console(app: web.Application, config: Config) -> None:
    """Add the console's routes, templates and session guard to the service ``app``."""
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(HERE / "templates")), app_key=JINJA,
        autoescape=True, undefined=jinja2.StrictUndefined,
    )
    env.filters.update(views_conversations.FILTERS)
    env.globals["static_url"] = lambda name: f"{PREFIX}/static/{name}"
    # after the service's database (which migrates it)
    app.cleanup_ctx.append(resource_ctx(READS, lambda: ReadThread(config.database)))
    c = config.console
    app[LIMITER] = LoginLimiter(c.login_max_failures, c.login_window_s, c.login_delay_s, c.login_max_delay_s)
    app.cleanup_ctx.append(resource_ctx(HASHES, lambda: HashGate(c.login_hashes, c.login_hash_queue)))
    app.middlewares.append(console_guard)
    r = app.router
    r.add_get(PREFIX, _to_index)
    r.add_get(f"{PREFIX}/login", views_auth.login_form)
    r.add_post(f"{PREFIX}/login", views_auth.login)
    r.add_post(f"{PREFIX}/logout", views_auth.logout)
    r.add_get(f"{PREFIX}/", views_conversations.conversations)
    r.add_get(f"{PREFIX}/messages/" + _id("message_id"), views_message.message_page)
    r.add_post(f"{PREFIX}/messages/" + _id("message_id") + "/correct", views_message.correct)
    r.add_get(f"{PREFIX}/corrections.jsonl", views_message.export_corrections)
    r.add_get(f"{PREFIX}/outbox", views_outbox.outbox_page)
    r.add_post(f"{PREFIX}/outbox/" + _id("outbox_id") + "/{op:retry|drop}", views_outbox.outbox_action)
    r.add_get(f"{PREFIX}/shop", views_shop.shop_page)
    r.add_post(f"{PREFIX}/shop/products/" + _id("product_id"), views_shop.edit_product)
    r.add_post(f"{PREFIX}/shop/orders/" + _id("order_id"), views_shop.order_status)
    r.add_post(f"{PREFIX}/shop/products/" + _id("product_id") + "/photo", views_shop.add_photo)
    r.add_post(f"{PREFIX}/shops/" + _id("shop_id") + "/products", views_shop.add_product)
    r.add_post(f"{PREFIX}/shops/" + _id("shop_id") + "/orders", views_shop.phone_order)
    r.add_get(f"{PREFIX}/dashboard", views_dashboard.dashboard)
    r.add_get(f"{PREFIX}/village", views_village.village_page)
    for route, handler in media.ROUTES.items():
        r.add_get(f"{PREFIX}/media/{route}", handler)
    r.add_static(f"{PREFIX}/static/", HERE / "static")


__all__ = ["PREFIX", "setup_console"]
