"""The aiohttp application factory: engines and storage as ``cleanup_ctx`` resources, no globals."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from voicebot import __version__
from voicebot.asr.pool import AsrPool
from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.tts.service import TtsService

CONFIG = web.AppKey("config", Config)
ASR = web.AppKey("asr", AsrPool)
TTS = web.AppKey("tts", TtsService)
STARTED = web.AppKey("started", float)


def _asr_ctx(config: Config):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool = AsrPool(config)
        await pool.start()
        app[ASR] = pool
        status = pool.status()
        for lang, info in status["languages"].items():
            if not info["installed"]:
                log_event(
                    "asr.model_missing",
                    language=lang,
                    model=info["model"],
                    fix=f"voicebot models pull {lang}",
                    effect="voice notes get a spoken 'voice recognition is not set up yet'",
                )
        yield
        await pool.close()

    return ctx


def _tts_ctx(config: Config):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        service = TtsService(config)
        await service.start()
        app[TTS] = service
        yield
        await service.close()

    return ctx


async def healthz(request: web.Request) -> web.Response:
    """200 with model and worker status; the body says what is degraded."""
    app = request.app
    asr = app[ASR].status()
    tts = app[TTS].status()
    body = {
        "status": "ok" if asr["ready"] and tts["ready"] else "degraded",
        "version": __version__,
        "uptime_s": round(time.monotonic() - app[STARTED], 1),
        "language": app[CONFIG].shop.language,
        "asr": asr,
        "tts": tts,
    }
    return web.json_response(body, dumps=_dumps)


def _dumps(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


def create_app(config: Config) -> web.Application:
    """Build the service: engines, storage, channels and routes for ``config``."""
    app = web.Application(client_max_size=max(config.wechat.max_body_bytes, config.audio.max_file_bytes))
    app[CONFIG] = config
    app[STARTED] = time.monotonic()
    app.cleanup_ctx.append(_asr_ctx(config))
    app.cleanup_ctx.append(_tts_ctx(config))
    app.router.add_get("/healthz", healthz)
    return app
