"""The aiohttp application factory: engines and storage as ``cleanup_ctx`` resources, no globals."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from voicebot import __version__
from voicebot.app_keys import ASR, CONFIG, DB, HEARTBEAT, PIPELINE, SENDER, STARTED, TTS, WEB, WECHAT
from voicebot.asr.engines import Recognizers
from voicebot.channels.web.channel import WebChannel, close_all
from voicebot.channels.web.routes import WebRoutes
from voicebot.channels.wechat.api import WechatApi
from voicebot.channels.wechat.channel import DbCache, WechatChannel
from voicebot.config import Config
from voicebot.console import setup_console
from voicebot.console.sessions import COOKIE as CONSOLE_COOKIE
from voicebot.http_limits import CROWD, Crowd, body_deadline, reserve_guard
from voicebot.logs import log_event, tame_foreign_loggers
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.events import on_run_end
from voicebot.pipeline.heartbeat import Heartbeat
from voicebot.pipeline.run import Pipeline
from voicebot.pipeline.sender import OutboxSender
from voicebot.server import resource_ctx
from voicebot.shop.shops import DEFAULT_SHOP, list_shops
from voicebot.speech_check import language_summary
from voicebot.store.db import describe as describe_store
from voicebot.store.db import open_db
from voicebot.store.leases import set_node
from voicebot.store.retention import SWEEP_EVERY_S, kept_paths, sweep_media
from voicebot.tts.service import TtsService

SHUTDOWN_FLUSH_S = 5.0  # an API that does not answer must not hold up a shutdown (rows stay queued)
# A stop finishes only the runs in flight, not the backlog (minutes of synthesis after a restart with many
# messages): queued and cut-off runs resume at the next start, as after a crash.
SHUTDOWN_RUN_GRACE_S = 5.0
SWEEP_CHECK_S = 300.0  # how often a process asks whether the hourly media sweep is its turn


def shop_languages(config: Config) -> list[str]:
    """``[shop]``'s language first, then every other shop's: each needs a recogniser from the start (a shop
    added later in a new language is heard after the next restart)."""
    db = open_db(config.database)
    try:
        others = [s["language"] for s in list_shops(db) if s["id"] != DEFAULT_SHOP]  # shop 1 is [shop]
        return list(dict.fromkeys([config.shop.language, *others]))
    finally:
        db.close()


def _asr_ctx(config: Config):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool = Recognizers(config, await asyncio.to_thread(shop_languages, config))
        await pool.start()
        app[ASR] = pool
        status = pool.status()
        for lang, info in status["languages"].items():
            if not info["installed"]:
                log_event(
                    "asr.model_missing",
                    logging.WARNING,
                    language=lang,
                    model=info["model"],
                    fix=info.get("fix", f"voicebot models pull {lang}"),
                    effect="voice notes get a spoken 'voice recognition is not set up yet'",
                )
        yield
        await pool.close()

    return ctx


def _summary_ctx(config: Config):
    """One start-up line per language: what recognises it and what speaks it, from where (loud when wrong)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        for line in language_summary(config, app[ASR], app[TTS]):
            log_event("serve.language", logging.INFO if line["ok"] else logging.ERROR, **line)
        yield

    return ctx


def _retention_ctx(config: Config):
    """Sweeps old media every hour (``storage.media_retention_days``), first soon after start: one process
    of those sharing the store per hour (a ``job:retention`` lease), not each of them."""

    async def sweep_forever(app: web.Application) -> None:
        await asyncio.sleep(60)
        while True:
            try:
                if await app[HEARTBEAT].take_turn("retention", SWEEP_EVERY_S):
                    keep = await app[DB].run(lambda shop: kept_paths(shop.village))
                    started = time.perf_counter()
                    stats = await asyncio.to_thread(sweep_media, config, keep)
                    log_event("media.swept", ms=round((time.perf_counter() - started) * 1000, 1), **stats)
            except Exception as e:  # a busy store: the next check tries again
                log_event("media.sweep_failed", logging.WARNING, error=f"{type(e).__name__}: {e}")
            await asyncio.sleep(SWEEP_CHECK_S)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(sweep_forever(app)) if config.storage.media_retention_days > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ctx


def _pipeline_ctx(config: Config):
    """The pipeline, its channels and the outbox sender; unfinished runs are resumed at start."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pipeline = Pipeline(config, app[DB], app[ASR], app[TTS])
        app[PIPELINE] = pipeline
        api = None
        if config.wechat.enabled:
            cache = DbCache(app[DB])
            api = WechatApi(config.wechat, token_cache=cache, media_cache=cache,
                            timeout_s=config.wechat.api_timeout_s)
            wechat = WechatChannel(config, pipeline, api, app[DB])
            pipeline.add_channel(wechat)
            app[WECHAT] = wechat
            log_event("wechat.enabled", path=config.wechat.path, reply_mode=config.wechat.reply_mode,
                      encrypted=bool(config.wechat.encoding_aes_key))
        if config.web.enabled:
            web_channel = WebChannel(config, app[DB])
            pipeline.add_channel(web_channel)
            routes = app[WEB]
            routes.channel, routes.pipeline, routes.db, routes.tts = web_channel, pipeline, app[DB], app[TTS]
            pipeline.on_event.add(web_channel.on_event)
        sender = OutboxSender(config, app[DB], pipeline.channels)
        app[SENDER] = sender
        for channel in pipeline.channels.values():
            channel.on_accept.append(sender.wake)
        pipeline.on_event.add(on_run_end(sender.wake))  # a run's replies are queued: send them
        sender.start()
        runs = config.server
        heartbeat = Heartbeat(app[DB], runs.claim_lease_s, batch=2 * runs.concurrent_runs,
                              adopt=pipeline.schedule, room=lambda: pipeline.runs.depth < runs.concurrent_runs)
        app[HEARTBEAT] = heartbeat
        await heartbeat.beat()  # our lease first: what this process accepts from now on stays its own
        await pipeline.resume()
        heartbeat.start()
        yield
        if config.web.enabled:
            await close_all(app[WEB].channel)
        await pipeline.close(drain_s=0, grace_s=SHUTDOWN_RUN_GRACE_S)
        await heartbeat.close()
        await sender.flush_before_exit(SHUTDOWN_FLUSH_S)
        await sender.close()
        if api is not None:
            await api.close()

    return ctx


_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _trusted(request: web.Request) -> bool:
    """Full health details: a direct local caller, or one with ``Authorization: Bearer <health_token>``.

    A request relayed by a local reverse proxy (``X-Forwarded-For``/``Forwarded``) is not local.
    """
    token = request.app[CONFIG].server.health_token
    auth = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(auth.encode("utf-8", "replace"), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def healthz(request: web.Request) -> web.Response:
    """200 with model and worker status; the body says what is degraded.

    Anyone sees the status and each language's readiness; worker PIDs, paths, counters and the
    run backlog only a trusted caller (see :func:`_trusted`).
    """
    app = request.app
    asr = app[ASR].status()
    tts = app[TTS].status()
    status = "ok" if asr["ready"] and tts["ready"] else "degraded"
    if not _trusted(request):
        missing = tts.get("missing_voices", {})
        languages = {
            lang: {"asr": bool(asr["ready"] and info["installed"]), "tts": bool(tts["ready"] and lang not in missing),
                   **({"fix": info["fix"]} if "fix" in info else {})}
            for lang, info in asr["languages"].items()
        }
        return web.json_response({"status": status, "languages": languages}, dumps=_dumps)
    body = {
        "status": status,
        "version": __version__,
        "uptime_s": round(time.monotonic() - app[STARTED], 1),
        "language": app[CONFIG].shop.language,
        "store": describe_store(app[CONFIG].database),
        "asr": asr,
        "tts": tts,
    }
    if PIPELINE in app:
        runs = app[PIPELINE].runs
        body["runs"] = {"queued": runs.depth, "running": len(runs.futures) - runs.depth,
                        "overflowing": runs.overflowing, **runs.stats, "db_queued": app[DB].queued,
                        **app[PIPELINE].counters.snapshot()}
    if HEARTBEAT in app:  # this process among those sharing the store
        beat = app[HEARTBEAT]
        body["cluster"] = {"owner": beat.owner, "claim_lease_s": beat.lease_s, **beat.stats}
    return web.json_response(body, dumps=_dumps)


async def _wechat_get(request: web.Request) -> web.Response:
    return await request.app[WECHAT].webhook.get(request)


async def _wechat_post(request: web.Request) -> web.Response:
    return await request.app[WECHAT].webhook.post(request)


async def settle(app: web.Application) -> None:
    """Wait until every accepted message has run and the outbox has sent what it can (tests, benches)."""
    while True:
        await app[PIPELINE].drain()
        await app[SENDER].flush()
        if app[PIPELINE].idle:
            return


def _priority(config: Config):
    """Requests served from the connection reserve: health checks, WeChat's deliveries, logged-in operators."""
    webhook = config.wechat.path if config.wechat.enabled else None
    console_cookie = CONSOLE_COOKIE if config.console.enabled else None

    def priority(request: web.Request) -> bool:
        path = request.path
        if path == "/healthz" or path == webhook:
            return True
        # the console's own guard checks the session; a forged cookie gets no further than that
        return (console_cookie is not None and path.startswith("/console/") and path != "/console/login"
                and console_cookie in request.cookies)

    return priority


def create_app(config: Config) -> web.Application:
    """Build the service: engines, storage, channels and routes for ``config``."""
    tame_foreign_loggers()
    set_node(config.server.node)
    webhook = config.wechat.path if config.wechat.enabled else None
    app = web.Application(
        client_max_size=max(config.wechat.max_body_bytes, config.audio.max_file_bytes),
        middlewares=[reserve_guard(_priority(config)),
                     body_deadline(config.server.body_timeout_s, lambda r: r.path == webhook)],
    )
    app[CONFIG] = config
    app[CROWD] = Crowd(config)
    app[STARTED] = time.monotonic()
    app.cleanup_ctx.append(_asr_ctx(config))
    app.cleanup_ctx.append(resource_ctx(TTS, lambda: TtsService(config)))
    app.cleanup_ctx.append(_summary_ctx(config))
    app.cleanup_ctx.append(resource_ctx(DB, lambda: DbThread(config)))
    app.cleanup_ctx.append(_pipeline_ctx(config))
    app.cleanup_ctx.append(_retention_ctx(config))
    app.router.add_get("/healthz", healthz)
    if config.wechat.enabled:
        # Routes must exist before start-up; the channel behind them is built in its cleanup_ctx.
        app.router.add_get(config.wechat.path, _wechat_get)
        app.router.add_post(config.wechat.path, _wechat_post)
    if config.web.enabled:
        app[WEB] = WebRoutes(config)
        app[WEB].add_to(app.router)
        app.on_response_prepare.append(WebRoutes.security_headers)
    if config.console.enabled:
        setup_console(app, config)
    return app
