"""The typed keys under which the application holds its engines, storage and channels.

A module of its own so the console, channels and tests can name them without importing the app factory.
"""

from __future__ import annotations

from aiohttp import web

from voicebot.asr.engines import Recognizers
from voicebot.channels.web.routes import WebRoutes
from voicebot.channels.wechat.channel import WechatChannel
from voicebot.config import Config
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.heartbeat import Heartbeat
from voicebot.pipeline.run import Pipeline
from voicebot.pipeline.sender import OutboxSender
from voicebot.tts.service import TtsService

CONFIG = web.AppKey("config", Config)
ASR = web.AppKey("asr", Recognizers)
TTS = web.AppKey("tts", TtsService)
DB = web.AppKey("db", DbThread)
PIPELINE = web.AppKey("pipeline", Pipeline)
SENDER = web.AppKey("sender", OutboxSender)
HEARTBEAT = web.AppKey("heartbeat", Heartbeat)
STARTED = web.AppKey("started", float)
WECHAT = web.AppKey("wechat_channel", WechatChannel)
WEB = web.AppKey("web", WebRoutes)

__all__ = ["ASR", "CONFIG", "DB", "HEARTBEAT", "PIPELINE", "SENDER", "STARTED", "TTS", "WEB", "WECHAT"]
