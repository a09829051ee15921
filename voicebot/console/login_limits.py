"""How the console's login resists guessing without letting anyone lock an operator out.

- Per address: at most ``max_failures`` failed logins within ``window_s``. An attempt is counted
  *before* its password is checked (a reservation) and forgiven only when it succeeds, so fifty
  attempts sent at once from one address get at most ``max_failures`` password checks.
- Per account: never a lock. Once an account has ``max_failures`` recent failures (from anywhere,
  including attempts still being checked) each further attempt waits ``delay_s * 2**extra`` seconds,
  at most ``max_delay_s``, before its password is checked. The right password still gets in, from
  any address that has not used up its own failures.
- Password hashing (argon2: 64 MiB and tens of milliseconds each) runs on ``concurrency`` threads of
  its own; attempts beyond ``queue`` waiting ones are refused at once instead of piling up memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class LoginRefused(Exception):
    """An attempt turned away before its password was checked; ``retry_after`` in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"try again in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass
class Attempt:
    """One reserved login attempt: wait ``delay`` seconds, check the password, then report the outcome."""

    address: str
    account: str
    at: float
    delay: float


class LoginLimiter:
    """Failures per address (a limit) and per account (a growing delay) within a sliding window."""

    MAX_KEYS = 10_000  # forget idle keys beyond this, so many made-up names cannot grow memory without end

    def __init__(self, max_failures: int, window_s: float, delay_s: float = 1.0, max_delay_s: float = 10.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.delay_s = delay_s
        self.max_delay_s = max_delay_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: allowed now)."""
        now = time.monotonic()
        q = self._recent(f"addr:{address}", now)
        return q[0] + self.window_s - now if len(q) >= self.max_failures else 0.0

    def delay(self, account: str) -> float:
        """How long the next attempt on ``account`` waits before its password is checked."""
        extra = len(self._recent(f"name:{account}", time.monotonic())) - self.max_failures
        return 0.0 if extra < 0 else min(self.delay_s * 2.0 ** min(extra, 60), self.max_delay_s)

    def begin(self, address: str, account: str) -> Attempt:
        """Reserve an attempt (counted as failed until :meth:`succeeded`), or raise :class:`LoginRefused`."""
        wait = self.retry_after(address)
        if wait > 0:
            raise LoginRefused(wait)
        now = time.monotonic()
        self._forget_idle(now)
        attempt = Attempt(address, account, now, self.delay(account))
        self._recent(f"addr:{address}", now).append(now)
        self._recent(f"name:{account}", now).append(now)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: the account's failures are forgiven, and this attempt's reservation."""
        self._failures.pop(f"name:{attempt.account}", None)
        self._unreserve(f"addr:{attempt.address}", attempt.at)

    def withdrawn(self, attempt: Attempt) -> None:
        """The password was never checked (the service was busy): the attempt does not count."""
        self._unreserve(f"addr:{attempt.address}", attempt.at)
        self._unreserve(f"name:{attempt.account}", attempt.at)

    def _unreserve(self, key: str, at: float) -> None:
        q = self._failures.get(key)
        if q is not None and at in q:
            q.remove(at)

    def _forget_idle(self, now: float) -> None:
        if len(self._failures) > self.MAX_KEYS:
            for key in [k for k in self._failures if not self._recent(k, now)]:
                del self._failures[key]


class HashGate:
    """At most ``concurrency`` password hashes at once (own threads), at most ``queue`` more waiting."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.limit = concurrency + queue
        self.inside = 0
        self.refused = 0
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a hashing thread; :class:`LoginRefused` when too many are waiting already."""
        if self.inside >= self.limit:
            self.refused += 1
            raise LoginRefused(1.0)
        if self._pool is None:
            # a pool of its own: a cancelled request cannot free a slot while its hash still runs
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="login-hash")
        self.inside += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self.inside -= 1

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
