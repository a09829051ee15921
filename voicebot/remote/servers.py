"""Several Wyoming servers behind one client: balancing, health, probing and retry on another server.

Each request goes to the healthy server with the fewest requests in flight (ties in turn). A server
that cannot be reached, drops the connection, or does not answer in time is taken out and the request
is tried on the next one, so a user hears an error only when no server could answer. Servers taken out
are probed with ``describe`` in the background and put back as soon as one answers; one that keeps
failing requests while it answers ``describe`` (stuck workers) waits longer each time (1, 2, 4 … 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info

from voicebot.logs import log_event
from voicebot.remote.uris import check_uri
from voicebot.waiting import wait_event

T = TypeVar("T")
CONNECT_TIMEOUT_S = 3.0
DESCRIBE_TIMEOUT_S = 5.0
PROBE_FIRST_S = 1.0  # first probe of a server taken out; doubles up to PROBE_MAX_S
PROBE_MAX_S = 30.0


class ServerFailed(Exception):
    """This server could not serve this request (unreachable, dropped, timed out): try another."""


class ServerRefused(Exception):
    """The server answered with a Wyoming ``error`` event: it is healthy, but would not do this."""

    def __init__(self, text: str, code: str | None = None) -> None:
        super().__init__(text)
        self.code = code


class NoServer(Exception):
    """No configured server could answer; the message says what each one did."""


@dataclass
class Server:
    """One configured server and what the client knows about it."""

    uri: str
    healthy: bool = True
    inflight: int = 0
    served: int = 0
    failures: int = 0
    last_error: str = ""
    info: dict[str, Any] | None = None  # the raw ``info`` event data from its last describe
    probe_after_s: float = PROBE_FIRST_S
    next_probe: float = 0.0
    streak: int = 0  # requests failed in a row: a server that answers describe but not work stays out longer
    languages: set[str] | None = field(default=None)  # None: unknown (any)

    def status(self) -> dict[str, Any]:
        return {"uri": self.uri, "healthy": self.healthy, "inflight": self.inflight, "served": self.served,
                "failures": self.failures, "last_error": self.last_error or None,
                "languages": sorted(self.languages) if self.languages is not None else None}


async def read_until(client: AsyncClient, wanted: Callable[[Event], bool]) -> Event:
    """The next event ``wanted`` accepts (others skipped); ServerRefused on ``error``, ServerFailed on EOF."""
    while True:
        event = await client.read_event()
        if event is None:
            raise ServerFailed("the server closed the connection")
        if Error.is_type(event.type):
            err = Error.from_event(event)
            raise ServerRefused(err.text, err.code)
        if wanted(event):
            return event


async def describe(uri: str, timeout_s: float = DESCRIBE_TIMEOUT_S) -> dict[str, Any]:
    """The server's ``info`` event data; ServerFailed when it does not answer in time."""
    try:
        async with asyncio.timeout(timeout_s):
            async with AsyncClient.from_uri(uri, connect_timeout=CONNECT_TIMEOUT_S) as client:
                await client.write_event(Describe().event())
                event = await read_until(client, lambda e: Info.is_type(e.type))
                return dict(event.data or {})
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
        raise ServerFailed(_why(e)) from None


def _why(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "timed out"
    return f"{type(e).__name__}: {e}"[:200]


class ServerSet:
    """The servers of one engine (``asr`` or ``tts``); :meth:`call` runs a request with retries."""

    def __init__(self, kind: str, uris: list[str], languages_of: Callable[[dict[str, Any]], set[str] | None]) -> None:
        self.kind = kind
        self.servers = [Server(check_uri(u)) for u in dict.fromkeys(uris)]
        self._languages_of = languages_of
        self._turn = itertools.count()
        self._prober: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Describe every server (those that do not answer start taken out) and start the prober."""
        await asyncio.gather(*(self._probe(s) for s in self.servers))
        for server in self.servers:
            if not server.healthy:
                log_event(f"{self.kind}.wyoming_down", logging.WARNING, uri=server.uri, error=server.last_error)
        if self._prober is None:
            self._wake = asyncio.Event()
            self._prober = asyncio.create_task(self._probe_loop(), name=f"{self.kind}-wyoming-probe")

    async def close(self) -> None:
        task, self._prober = self._prober, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- health -----------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return any(s.healthy for s in self.servers)

    def status(self) -> list[dict[str, Any]]:
        return [s.status() for s in self.servers]

    def _take_out(self, server: Server, why: str) -> None:
        server.failures += 1
        server.streak += 1
        server.last_error = why
        if server.healthy:
            server.healthy = False
            server.probe_after_s = min(PROBE_MAX_S, PROBE_FIRST_S * 2 ** (server.streak - 1))
            server.next_probe = time.monotonic() + server.probe_after_s
            log_event(f"{self.kind}.wyoming_out", logging.WARNING, uri=server.uri, error=why)
            if self._wake is not None:
                self._wake.set()

    async def _probe(self, server: Server) -> bool:
        try:
            info = await describe(server.uri)
        except ServerFailed as e:
            server.last_error = str(e)
            server.healthy = False
            server.next_probe = time.monotonic() + server.probe_after_s
            server.probe_after_s = min(PROBE_MAX_S, server.probe_after_s * 2)
            return False
        server.info = info
        server.languages = self._languages_of(info)
        if not server.healthy:
            log_event(f"{self.kind}.wyoming_back", uri=server.uri)
        server.healthy, server.probe_after_s = True, PROBE_FIRST_S
        return True

    async def _probe_loop(self) -> None:
        assert self._wake is not None
        while True:
            now = time.monotonic()
            due = [s for s in self.servers if not s.healthy and s.next_probe <= now]
            await asyncio.gather(*(self._probe(s) for s in due))
            waits = [s.next_probe - time.monotonic() for s in self.servers if not s.healthy]
            self._wake.clear()
            await wait_event(self._wake, max(0.05, min(waits)) if waits else None)

    # -- requests ---------------------------------------------------------------------------
    def serves(self, lang: str) -> list[Server]:
        """Servers that may serve ``lang`` (those whose languages are unknown included)."""
        return [s for s in self.servers if s.languages is None or lang in s.languages]

    def _order(self, lang: str) -> list[Server]:
        """Healthy servers for ``lang``, least busy first (ties in turn), then the ones taken out."""
        candidates = self.serves(lang)
        turn = next(self._turn)
        n = max(1, len(candidates))
        ranked = sorted(enumerate(candidates), key=lambda p: (not p[1].healthy, p[1].inflight, (p[0] - turn) % n))
        return [s for _, s in ranked]

    async def call(self, lang: str, request: Callable[[Server], Awaitable[T]], timeout_s: float) -> T:
        """``request(server)`` on one server after another until one answers within ``timeout_s``.

        Raises ServerRefused when a server refused (and none after it answered), else NoServer.
        """
        tried: list[str] = []
        refused: ServerRefused | None = None
        for server in self._order(lang):
            server.inflight += 1
            try:
                async with asyncio.timeout(timeout_s):
                    result = await request(server)
            except ServerRefused as e:
                refused = e
                tried.append(f"{server.uri}: refused ({e})")
                continue
            except (ServerFailed, OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
                why = _why(e)
                tried.append(f"{server.uri}: {why}")
                self._take_out(server, why)
                continue
            finally:
                server.inflight -= 1
            server.served += 1
            server.streak = 0
            if not server.healthy:  # it answered: back in without waiting for the prober
                server.healthy, server.probe_after_s = True, PROBE_FIRST_S
                log_event(f"{self.kind}.wyoming_back", uri=server.uri)
            if tried:
                log_event(f"{self.kind}.wyoming_retried", logging.WARNING, language=lang, served_by=server.uri,
                          failed=tried)
            return result
        if refused is not None:
            raise refused
        if not tried:
            raise NoServer(f"no {self.kind} server is configured for language {lang!r}")
        raise NoServer(f"no {self.kind} server could answer ({'; '.join(tried)})")
