"""Structured logging: one JSON line per event, with timings, never with secrets."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

LOGGER_NAME = "voicebot"


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


def setup_logging(level: str = "info") -> None:
    """Send voicebot's structured lines to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False


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
