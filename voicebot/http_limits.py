"""Limits that keep one client from crowding out everyone else.

- :class:`Crowd` counts open connections per client address. Past its share,
  ``server.max_connections_per_address``, an address is served only ``/healthz`` and the WeChat
  webhook (WeChat's servers deliver a burst from few addresses); anything else gets ``503 busy``.
  Past :data:`HARD_SHARE` times its share a new connection from it is refused outright.
- The last ``server.reserved_connections`` of ``server.max_connections`` are a reserve: while the
  service is that full, only ``/healthz``, the WeChat webhook and a logged-in console are served
  (:func:`reserve_guard`); everything else gets ``503 busy`` and its connection is closed. Nor
  does an address that already holds :data:`RESERVE_SHARE` connections get a new one then: the
  reserve is for the few connections of WeChat's servers and an operator, not for the crowd.
- :func:`body_deadline` reads every request body within ``server.body_timeout_s`` (``408`` and a
  closed connection otherwise), so slow senders cannot hold connections on any route.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from voicebot.config import Config
from voicebot.logs import log_limited

RESERVE_SHARE = 4
HARD_SHARE = 4
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def peer_host(transport: asyncio.BaseTransport | None) -> str:
    """The client's address of a connection ("" when unknown, e.g. a Unix socket)."""
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


class Crowd:
    """The service's open connections: per client address, and whether the reserve is in use."""

    def __init__(self, config: Config) -> None:
        server = config.server
        self.max_connections = server.max_connections
        self.per_address = server.max_connections_per_address
        self.reserved = min(server.reserved_connections, server.max_connections // 2)
        self._connections: Callable[[], Iterable[Any]] = tuple
        self.refused: Counter[str] = Counter()

    def watch(self, connections: Callable[[], Iterable[Any]]) -> None:
        """Count the connections (aiohttp request handlers) that ``connections()`` returns."""
        self._connections = connections

    def open_count(self) -> int:
        return sum(1 for _ in self._connections())

    def from_address(self, host: str) -> int:
        return sum(1 for h in self._connections() if peer_host(getattr(h, "transport", None)) == host)

    def admit(self, host: str) -> str | None:
        """Why a new connection from ``host`` is refused, or None when it may open."""
        total = self.open_count()
        mine = self.from_address(host) if host else 0
        if total >= self.max_connections:
            reason = "limit"
        elif mine >= self.per_address * HARD_SHARE:
            reason = "per_address"
        elif self.reserved and total >= self.max_connections - self.reserved and mine >= RESERVE_SHARE:
            reason = "reserve"
        else:
            return None
        self.refused[reason] += 1
        log_limited("http.connection_refused", reason, reason=reason, remote=host,
                    limit=self.per_address if reason == "per_address" else self.max_connections,
                    refused=self.refused[reason])
        return reason

    def over_share(self, host: str) -> bool:
        """True while ``host`` holds more than its share of connections."""
        return bool(host) and self.from_address(host) > self.per_address

    def crowded(self) -> bool:
        """True while the open connections reach into the reserve."""
        return self.reserved > 0 and self.open_count() >= self.max_connections - self.reserved


CROWD = web.AppKey("crowd", Crowd)


def busy() -> web.Response:
    response = web.Response(status=503, text="busy", headers={"Retry-After": "1"})
    response.force_close()
    return response


def reserve_guard(priority: Callable[[web.Request], bool]) -> Any:
    """A middleware that serves only ``priority`` requests while the service is crowded, and to an
    address holding more than its share of connections."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        crowd = request.app.get(CROWD)
        if crowd is not None and not priority(request):
            remote = request.remote or ""
            reason = "reserve" if crowd.crowded() else "per_address" if crowd.over_share(remote) else None
            if reason is not None:
                log_limited("http.reserve_refused", reason, reason=reason, path=request.path, remote=remote)
                return busy()
        return await handler(request)

    return guard


def body_deadline(timeout_s: float, own_reader: Callable[[web.Request], bool]) -> Any:
    """A middleware that reads the whole body within ``timeout_s`` before the handler runs.

    Handlers then get the cached body from ``request.read()``/``post()``; a route for which
    ``own_reader(request)`` is true reads (and times) its body itself.
    """

    @web.middleware
    async def deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists and not own_reader(request):
            try:
                await asyncio.wait_for(request.read(), timeout_s)
            except TimeoutError:
                log_limited("http.body_timeout", "body", path=request.path, remote=request.remote or "",
                            timeout_s=timeout_s)
                response = web.Response(status=408, text="the request body did not arrive in time")
                response.force_close()
                return response
        return await handler(request)

    return deadline
