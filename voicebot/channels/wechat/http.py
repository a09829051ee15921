"""An aiohttp client session made on first use and closed by its owner (shared by API and test clients)."""

from __future__ import annotations

from typing import Self

import aiohttp


class OwnedSession:
    """Use ``self.session``; a session passed in stays its caller's, one made here is closed here."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session
