"""Typed events of pipeline runs, and the one callback that delivers them.

Each run emits one stream: ``run-start``; for each stage a start and an end, timed (``stt`` is the
``asr`` stage and ``intent`` the ``dialogue`` stage, as in Home Assistant's assist pipeline); an
``error`` with the failure's ``{stage}.{code}``; ``run-end`` with the status and every stage's time.
Its consumers are the stage log lines (here), the conversation log's timings (:class:`Trace`), the web
chat's ``heard`` message, the outbox sender's wake-up and the /healthz counters (:class:`Counters`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from voicebot.logs import log_event, log_limited

Stage = Literal["fetch", "decode", "photo", "asr", "village", "dialogue", "tts", "outbox"]
_PHASES = {"asr": "stt", "dialogue": "intent"}  # the event names an assist pipeline uses for them


@dataclass(frozen=True)
class RunInfo:
    """Which message a run is for; every event of the run carries it."""

    message_id: int
    channel: str
    channel_msg_id: str
    user: str
    kind: str
    shop_id: int | None  # where the message was placed when the run began

    def log_fields(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "channel": self.channel, "shop_id": self.shop_id}


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    run: RunInfo

    @property
    def type(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class RunStart(RunEvent):
    role: str  # seller or buyer
    lang: str

    @property
    def type(self) -> str:
        return "run-start"


# -- what a stage found (the typed part of its end event) ---------------------------------------------
@dataclass(frozen=True)
class Decoded:
    audio_s: float


@dataclass(frozen=True)
class Heard:
    text: str
    confidence: float | None
    grammar: bool  # recognition was steered by a grammar or prompt


@dataclass(frozen=True)
class Placed:
    moved: bool  # a buyer's words took her to another shop


@dataclass(frozen=True)
class Understood:
    intent: str
    committed: bool
    action_id: int | None


@dataclass(frozen=True)
class Spoken:
    chars: int
    parts: int  # voice messages the reply was split into


Outcome = Decoded | Heard | Placed | Understood | Spoken


@dataclass(frozen=True, kw_only=True)
class StageStart(RunEvent):
    stage: Stage

    @property
    def type(self) -> str:
        return f"{_PHASES.get(self.stage, self.stage)}-start"


@dataclass(frozen=True, kw_only=True)
class StageEnd(RunEvent):
    stage: Stage
    ms: float
    outcome: Outcome | None = None
    error: str | None = None  # the exception that ended the stage (then the run's ``error`` event follows)

    @property
    def type(self) -> str:
        return f"{_PHASES.get(self.stage, self.stage)}-end"

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, kw_only=True)
class RunError(RunEvent):
    """A failure the user is told about: ``stage.code`` picks the spoken reply (pipeline/failures.py)."""

    stage: str
    code: str
    detail: str
    failed: bool  # a bug or a broken part of ours, not the user's input: the run ends ``failed``

    @property
    def type(self) -> str:
        return "error"


@dataclass(frozen=True, kw_only=True)
class RunEnd(RunEvent):
    status: str  # replied, failed
    timings: Mapping[str, float]  # ms per stage
    error: str | None  # ``{stage}.{code}: detail`` as the conversation log keeps it

    @property
    def type(self) -> str:
        return "run-end"


Listener = Callable[[RunEvent], Awaitable[None] | None]


class Listeners:
    """The one callback a pipeline delivers its events through: each listener in the order added.

    A listener that raises is logged and skipped: a consumer never fails a run.
    """

    def __init__(self, *listeners: Listener) -> None:
        self._listeners = list(listeners)

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def __call__(self, event: RunEvent) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as e:  # rate-limited: a broken listener fails on every event
                name = getattr(listener, "__qualname__", repr(listener))
                log_limited("pipeline.listener_failed", name, logging.WARNING, type=event.type, listener=name,
                            error=f"{type(e).__name__}: {e}", **event.run.log_fields())


def on_run_end(callback: Callable[[], None]) -> Listener:
    """A listener that calls ``callback`` after each run."""

    def listener(event: RunEvent) -> None:
        if isinstance(event, RunEnd):
            callback()

    return listener


def log_stage(event: RunEvent) -> None:
    """One structured log line per stage with its time (and ``pipeline.done`` per run)."""
    if isinstance(event, StageEnd):
        found = dataclasses.asdict(event.outcome) if event.outcome is not None else {}
        failed = {} if event.ok else {"error": event.error}
        log_event(event.stage, logging.INFO if event.ok else logging.WARNING, ms=event.ms, ok=event.ok,
                  **failed, **found, **event.run.log_fields())
    elif isinstance(event, RunError):
        log_event("pipeline.error", logging.ERROR if event.failed else logging.INFO, stage=event.stage,
                  code=event.code, error=event.detail, **event.run.log_fields())
    elif isinstance(event, RunEnd):
        log_event("pipeline.done", status=event.status, total_ms=round(sum(event.timings.values()), 1),
                  timings=dict(event.timings), **event.run.log_fields())


class Counters:
    """Runs ended by status and errors by ``{stage}.{code}`` since the process started (/healthz)."""

    def __init__(self) -> None:
        self.ended: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, RunEnd):
            self.ended[event.status] += 1
        elif isinstance(event, RunError):
            self.errors[f"{event.stage}.{event.code}"] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {"ended": dict(self.ended), "errors": dict(self.errors)}


class OpenStage:
    """A stage being timed: what it found goes in ``outcome``."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.outcome: Outcome | None = None


class Trace:
    """One run's event stream: delivers its events, times its stages and keeps their times for the
    conversation log; ``current`` is the stage a failure happened in."""

    def __init__(self, run: RunInfo, deliver: Callable[[RunEvent], Awaitable[None]]) -> None:
        self.run = run
        self._deliver = deliver
        self.timings: dict[str, float] = {}
        self.current: Stage | None = None

    async def emit(self, event: RunEvent) -> None:
        await self._deliver(event)

    @contextlib.asynccontextmanager
    async def stage(self, stage: Stage) -> AsyncIterator[OpenStage]:
        """Time the block as ``stage``: its start event, then its end (with ``error`` if it raised)."""
        await self.emit(StageStart(run=self.run, stage=stage))
        self.current, opened, start = stage, OpenStage(stage), time.perf_counter()
        try:
            yield opened
        except Exception as e:
            await self._end(opened, start, f"{type(e).__name__}: {e}")
            raise
        await self._end(opened, start, None)
        self.current = None

    async def _end(self, opened: OpenStage, start: float, error: str | None) -> None:
        ms = round((time.perf_counter() - start) * 1000, 1)
        self.timings[opened.stage] = ms
        await self.emit(StageEnd(run=self.run, stage=opened.stage, ms=ms, outcome=opened.outcome, error=error))
