"""Serving the app: an HTTP site that caps connections and drops connections that never send a request.

aiohttp has no connection limit and keeps an idle connection open for an hour, so a crowd of
slow or silent clients could use up the process's file descriptors. Here a connection past
``server.max_connections``, or past ``server.max_connections_per_address`` from one client address,
gets an immediate ``503`` and is closed (see :mod:`voicebot.http_limits`), a connection that has not
sent its request line and headers within ``server.body_timeout_s`` is closed, and idle keep-alive
connections close after ``keepalive_timeout_s``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from voicebot.config import Config
from voicebot.http_limits import CROWD, Crowd, peer_host
from voicebot.logs import log_event, log_limited, tame_foreign_loggers

REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n\r\nbusy"
)
KEEPALIVE_TIMEOUT_S = 15.0
CROWDED_HEADER_TIMEOUT_S = 2.0


class _Admit(asyncio.Protocol):
    """Decides, once the client's address is known, between aiohttp's handler and a ``503``."""

    def __init__(self, site: CappedSite) -> None:
        self.site = site

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        handler = self.site.admit(transport)
        if handler is None:
            transport.write(REFUSAL)
            transport.close()
            return
        transport.set_protocol(handler)  # from here on aiohttp's handler is the protocol
        handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:  # a refused client's bytes are ignored
        pass


class CappedSite(web.TCPSite):
    """A TCP site with at most ``max_connections`` open connections (and a share per client address)
    and a deadline for request heads."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *, crowd: Crowd,
                 header_timeout_s: float = 10.0, **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.crowd = crowd
        self.max_connections = crowd.max_connections
        self.header_timeout_s = header_timeout_s

    @property
    def refused(self) -> int:
        return sum(self.crowd.refused.values())

    def admit(self, transport: asyncio.Transport) -> Any:
        """aiohttp's handler for a new connection, or None when it is refused."""
        if self.crowd.admit(peer_host(transport)) is not None:
            return None
        server = self._runner.server
        assert server is not None
        handler = server()
        # a crowded service gives silent connections less time: they hold slots meant for others
        timeout = min(self.header_timeout_s, CROWDED_HEADER_TIMEOUT_S) if self.crowd.crowded() else self.header_timeout_s
        asyncio.get_running_loop().call_later(timeout, _drop_if_silent, handler)
        return handler

    def _protocol(self) -> asyncio.Protocol:
        return _Admit(self)

    async def start(self) -> None:
        # TCPSite.start with our protocol factory (BaseSite.start registers the site with the runner).
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets or []
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    @property
    def port(self) -> int:
        return self._bound_port


def _drop_if_silent(handler: Any) -> None:
    """Close a connection that has not sent one complete request head in time (slowloris)."""
    transport = getattr(handler, "transport", None)
    if transport is None or transport.is_closing() or getattr(handler, "_request_count", 1):
        return
    log_limited("http.header_timeout", "silent", remote=str(transport.get_extra_info("peername")))
    transport.close()


async def start_site(app: web.Application, config: Config, host: str | None = None,
                     port: int | None = None) -> tuple[web.AppRunner, CappedSite]:
    """Set up ``app`` and listen on ``host:port`` (port 0: any free port) with the limits above."""
    tame_foreign_loggers()
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT_S)
    await runner.setup()
    crowd = app.get(CROWD) or Crowd(config)
    server = runner.server
    assert server is not None
    crowd.watch(lambda: server.connections)
    site = CappedSite(
        runner, config.server.host if host is None else host, config.server.port if port is None else port,
        crowd=crowd, header_timeout_s=config.server.body_timeout_s,
    )
    await site.start()
    return runner, site


async def serve_until_signalled(app: web.Application, config: Config) -> None:
    """Run the service until SIGINT or SIGTERM, then shut it down cleanly."""
    runner, site = await start_site(app, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log_event("serve.listening", host=config.server.host, port=site.port,
              max_connections=config.server.max_connections)
    try:
        await stop.wait()
    finally:
        log_event("serve.stopping")
        await runner.cleanup()


def resource_ctx(key: web.AppKey, make: Callable[[], Any]) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` that starts ``make()`` as ``app[key]`` and closes it when the app stops."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        resource = make()
        await resource.start()
        app[key] = resource
        yield
        await resource.close()

    return ctx
