"""Sliding-window counters for the browser chat: messages per identity, per address and overall,
and new anonymous identities per address and overall."""

from __future__ import annotations

import collections
import time

FORGET_ABOVE = 10_000  # keys kept before idle ones are forgotten


class Window:
    """At most ``limit`` events per key within ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, collections.deque[float]] = {}

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        recent = self._events.setdefault(key, collections.deque())
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        return recent

    def full(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return len(self._recent(key, now)) >= self.limit

    def add(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(key, now).append(now)
        if len(self._events) > FORGET_ABOVE:
            for k in [k for k, d in self._events.items() if not d or d[-1] <= now - self.window_s]:
                del self._events[k]


def admit(windows: list[tuple[Window, str]], now: float | None = None) -> Window | None:
    """Count one event in every ``(window, key)`` if none is full; else the first full window."""
    now = time.monotonic() if now is None else now
    for window, key in windows:
        if window.full(key, now):
            return window
    for window, key in windows:
        window.add(key, now)
    return None
