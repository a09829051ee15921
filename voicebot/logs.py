"""Structured logging: one JSON line per event, with timings, never with secrets."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

LOGGER_NAME = "voicebot"
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.internal", "aiohttp.client")  # not the access log


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, event and its fields.

    A record from :func:`log_event` already carries its JSON (so any handler, pytest's included,
    shows the fields); other records are wrapped.
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
        }
        message = record.getMessage()
        if getattr(record, "structured", False):
            out.update(json.loads(message))
        else:
            out["event"] = message
        if record.exc_info and record.levelno >= logging.ERROR:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, ensure_ascii=False, default=str)


class RateLimiter:
    """At most one line per key per ``interval_s``; the next line that passes counts what was dropped.

    Keys are the reasons of outsider-triggered events (``wechat.rejected:invalid_signature``), so a
    flood of bad requests writes one line a second per reason, not one per request.
    """

    def __init__(self, interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> int | None:
        """None to drop this line; else how many lines of ``key`` were dropped since the last one."""
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return None
            if len(self._last) > 10_000:  # per-message keys come and go: never grow without bound
                self._last.clear()
                self._suppressed.clear()
            self._last[key] = now
            return self._suppressed.pop(key, 0)


LIMITER = RateLimiter()


def log_limited(
    event: str, key: str, level: int = logging.WARNING, limiter: RateLimiter | None = None, **fields: Any
) -> bool:
    """:func:`log_event`, rate-limited per ``event:key``; returns whether a line was written."""
    suppressed = (limiter or LIMITER).admit(f"{event}:{key}")
    if suppressed is None:
        return False
    if suppressed:
        fields["suppressed"] = suppressed
    log_event(event, level, **fields)
    return True


class _ForeignRecordFilter(logging.Filter):
    """Third-party (aiohttp) records: one line, no traceback, rate-limited per message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self._tame(record)
        except Exception:  # a logging filter must never break the code that logs
            record.exc_info, record.exc_text = None, None
            return True

    def _tame(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        # The key is the message template and the error type, never the outsider's bytes in them.
        key = f"{record.name}:{record.msg if isinstance(record.msg, str) else ''}:{type(exc).__name__}"[:300]
        suppressed = LIMITER.admit(key)
        if suppressed is None:
            return False
        message = record.getMessage()
        if exc is not None:
            message = f"{message}: {type(exc).__name__}: {str(exc)[:200]}"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        fields = {"logger": record.name, "message": " ".join(message.split())[:500]}
        if suppressed:
            fields["suppressed"] = suppressed
        record.msg, record.args = json.dumps({"event": "http.server_log", **fields}, ensure_ascii=False), None
        record.structured = True
        return True


_FOREIGN_FILTER = _ForeignRecordFilter()


def tame_foreign_loggers() -> None:
    """Make aiohttp's loggers write one JSON-able line per event (no tracebacks), rate-limited."""
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FOREIGN_FILTER not in logger.filters:
            logger.addFilter(_FOREIGN_FILTER)


def setup_logging(level: str = "info") -> None:
    """Send voicebot's structured lines, and aiohttp's (tamed), to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
    tame_foreign_loggers()
    aiohttp_logger = logging.getLogger("aiohttp")
    aiohttp_logger.handlers[:] = [handler]
    aiohttp_logger.setLevel(logging.WARNING)
    aiohttp_logger.propagate = False


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def log_event(event: str, level: int = logging.INFO, logger: logging.Logger | None = None, **fields: Any) -> None:
    """Log one structured line: ``{"event": event, **fields}``."""
    line = json.dumps({"event": event, **fields}, ensure_ascii=False, default=str)
    (logger or get_logger()).log(level, "%s", line, extra={"structured": True, "event": event, "fields": fields})


@contextlib.contextmanager
def timed(event: str, sink: dict[str, float] | None = None, **fields: Any) -> Iterator[dict[str, Any]]:
    """Time a block; log one line with ``ms`` (and ``ok``/``error``); store ms into ``sink[event]``.

    The yielded dict can be filled with more fields while the block runs.
    """
    extra: dict[str, Any] = dict(fields)
    start = time.perf_counter()
    try:
        yield extra
    except Exception as e:
        ms = round((time.perf_counter() - start) * 1000, 1)
        if sink is not None:
            sink[event] = ms
        log_event(event, logging.WARNING, ms=ms, ok=False, error=f"{type(e).__name__}: {e}", **extra)
        raise
    ms = round((time.perf_counter() - start) * 1000, 1)
    if sink is not None:
        sink[event] = ms
    log_event(event, ms=ms, ok=True, **extra)
