"""Supervised worker processes that fail alone, and die with the service.

:class:`WorkerPool` runs tasks in N spawned processes on pebble's ``ProcessPool``. Every task
has its own timeout: a task that overruns, or whose process dies, costs only that process —
pebble kills and replaces it while the other workers and their tasks go on. The initializer
(loading a model) runs once in every process, replacements included. Each process reports on a
pipe of ours when it starts and when its initializer is done, so the pool knows its live pids and
whether it is ready without reading pebble's internals.

Workers die with the service, even a SIGKILLed one (an orphaned worker would keep a loaded
model, or espeak spinning a core). :func:`die_with_parent` runs first in every worker:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so the kernel kills the worker when its parent dies.
  The kernel ties this to the *thread* that spawned the worker, so workers must be spawned from
  long-lived threads: the first ones from the thread that calls :meth:`WorkerPool.start` (the event
  loop's), replacements from pebble's pool-manager thread, which lives as long as the pool.
- anywhere: a daemon thread that notices ``os.getppid()`` change (the worker was re-parented) and
  exits the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool
from pebble.common.types import RemoteTraceback

from voicebot.logs import log_event

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.5
STALL_ENV = "VOICEBOT_TEST_STALL_DIR"
ORPHAN_CHECK_S = 0.25


class WorkerError(Exception):
    """A task did not get a result from its worker (the pool itself recovers)."""


class WorkerTimeout(WorkerError):
    """The task ran past its timeout; its worker was killed and replaced."""


class WorkerDied(WorkerError):
    """The worker running the task died (or the pool was closed under it); it was replaced."""


class WorkerStartFailed(WorkerError):
    """The workers could not start: an initializer failed, or they did not come up in time."""


# -- inside a worker ----------------------------------------------------------------------------


def _set_pdeathsig() -> bool:
    """Ask the kernel to SIGKILL this process when its parent exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    return False


def _watch_parent(parent: int, interval_s: float) -> None:
    event = threading.Event()
    while not event.wait(interval_s):
        if os.getppid() != parent:
            os._exit(1)  # no clean-up: the service that would want our results is gone


def die_with_parent(interval_s: float = WATCH_INTERVAL_S, *, use_prctl: bool = True) -> None:
    """Make this (worker) process exit when its parent dies; call it first in a pool initializer.

    ``use_prctl=False`` leaves only the portable watchdog (what non-Linux systems get; tests use it).
    """
    spawner = multiprocessing.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid else os.getppid()
    if use_prctl:
        _set_pdeathsig()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, interval_s), name="voicebot-parent-watch",
                     daemon=True).start()


def _worker_init(report: Any, initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]) -> None:
    """pebble's initializer in every worker: die with the service, load, say so on ``report``.

    Messages are a few bytes, so each ``send`` is one atomic pipe write and needs no lock
    (a worker killed mid-send cannot leave a lock held).
    """
    die_with_parent()
    pid = os.getpid()
    report.send(("started", pid, ""))
    try:
        if initializer is not None:
            initializer(*initargs)
    except BaseException as e:
        report.send(("failed", pid, f"{type(e).__name__}: {e}"[:500]))
        raise
    report.send(("ready", pid, ""))


def stall_for_tests(key: bytes) -> None:
    """Test hook: hold or hang a task whose input is named in ``$VOICEBOT_TEST_STALL_DIR``.

    Does nothing unless that variable is set in the service's environment (tests only). Then a
    file ``<sha256(key)[:16]>.hang`` there makes the task hang forever, and a ``.hold`` file holds
    it until the file is removed. No input from outside can reach it.
    """
    folder = os.environ.get(STALL_ENV)
    if not folder:
        return
    name = hashlib.sha256(key).hexdigest()[:16]
    while (Path(folder) / f"{name}.hold").exists():
        time.sleep(0.02)
    while (Path(folder) / f"{name}.hang").exists():
        time.sleep(0.5)


def stall_name(key: bytes) -> str:
    """The file name stem :func:`stall_for_tests` looks for, for ``key``."""
    return hashlib.sha256(key).hexdigest()[:16]


# -- in the service -----------------------------------------------------------------------------


def _alive_child(pid: int) -> bool:
    """Is ``pid`` a live (not zombie) child of this process?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if not Path("/proc/self").exists():  # no /proc: ask the kernel whether the pid exists
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return True
        return False
    except OSError:
        return False
    state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
    return state != "Z" and int(ppid) == os.getpid()


class WorkerPool:
    """N worker processes; :meth:`run` one task in a free one, with its own timeout.

    Tasks wait (in ``queued``) until a worker is free, so a timeout measures the task only. A
    timed-out task's worker is killed and replaced (``WorkerTimeout``); a worker that dies
    during a task is replaced (``WorkerDied``); neither touches the other workers. Exceptions
    raised by the task itself reach the caller unchanged.
    """

    def __init__(self, name: str, workers: int, initializer: Callable[..., Any] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        self.name = name
        self.size = max(1, workers)
        self._initializer = initializer
        self._initargs = initargs
        self._pool: ProcessPool | None = None
        self._reader: Any = None
        self._writer: Any = None
        self._started: set[int] = set()  # pids that reported in (live or not)
        self._loaded: set[int] = set()  # pids whose initializer finished
        self._loads = 0  # initializers finished in this pool's life
        self._failure = ""  # the last initializer failure, until a worker loads again
        self._first_failure = ""  # what makes wait_ready fail
        self._lock = threading.Lock()
        self._futures: set[Future[Any]] = set()
        self.restarts = 0  # workers replaced after a timeout or a crash
        self._inflight = 0
        self._waiting = 0
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    # -- life cycle ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._pool is not None

    def start(self) -> None:
        """Spawn the workers now, from the calling (long-lived) thread; they load in the background."""
        if self._pool is not None:
            return
        ctx = multiprocessing.get_context("spawn")
        self._reader, self._writer = ctx.Pipe(duplex=False)
        self._started, self._loaded, self._loads = set(), set(), 0
        self._failure = self._first_failure = ""
        self._pool = ProcessPool(max_workers=self.size, initializer=_worker_init,
                                 initargs=(self._writer, self._initializer, self._initargs), context=ctx)
        _ = self._pool.active  # pebble spawns its workers on first use: do it here, on this thread

    async def wait_ready(self, timeout_s: float) -> None:
        """Until every worker has run its initializer; WorkerStartFailed if one failed or time ran out."""
        started = time.monotonic()
        while True:
            self._drain()
            if self._first_failure:
                raise WorkerStartFailed(self._first_failure)
            if self._pool is None or not self._pool.active:
                raise WorkerStartFailed(f"the {self.name} workers exited while starting")
            if self._loads >= self.size:
                return
            if time.monotonic() - started > timeout_s:
                raise WorkerStartFailed(f"the {self.name} workers did not start within {timeout_s:g} s")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Stop every worker (killing busy ones); tasks still waiting fail with WorkerDied."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        await asyncio.to_thread(self._stop, pool)
        for future in list(self._futures):
            with contextlib.suppress(Exception):
                if not future.done():
                    future.set_exception(WorkerDied(f"the {self.name} workers were stopped"))
        with self._lock:
            self._close_pipe(self._reader, self._writer)
            self._reader = self._writer = None
            self._started, self._loaded = set(), set()

    @staticmethod
    def _stop(pool: ProcessPool, *pipe: Any) -> None:
        pool.stop()
        pool.join()
        WorkerPool._close_pipe(*pipe)

    @staticmethod
    def _close_pipe(*pipe: Any) -> None:
        for conn in pipe:
            if conn is not None:
                conn.close()

    def _rebuild(self, reason: str) -> None:
        """pebble gave up on the pool (a worker died while no task ran): start a fresh one."""
        old, pipe = self._pool, (self._reader, self._writer)
        with self._lock:
            self._pool, self._reader, self._writer = None, None, None
        log_event(f"{self.name}.pool_rebuilt", level=logging.WARNING, reason=reason)
        self.start()
        if old is not None:  # its workers are gone or idle; stop them off this thread
            threading.Thread(target=self._stop, args=(old, *pipe), name=f"{self.name}-stop", daemon=True).start()

    # -- status -------------------------------------------------------------------------------
    def _drain(self) -> None:
        """Read what the workers reported (non-blocking)."""
        with self._lock:
            reader = self._reader
            while reader is not None and reader.poll():
                try:
                    what, pid, detail = reader.recv()
                except Exception:  # closed, or a worker killed mid-report: the rest is unreadable
                    return
                if what == "started":
                    self._started.add(pid)
                elif what == "ready":
                    self._loaded.add(pid)
                    self._loads += 1
                    self._failure = ""
                elif what == "failed":
                    self._failure = detail
                    self._first_failure = self._first_failure or detail
                    log_event(f"{self.name}.worker_failed", level=logging.ERROR, pid=pid, error=detail)

    def pids(self) -> list[int]:
        """The live worker processes (loaded or loading)."""
        self._drain()
        with self._lock:
            self._started = {pid for pid in self._started if _alive_child(pid)}
            self._loaded &= self._started
            return sorted(self._started)

    @property
    def ready(self) -> bool:
        """Started, every worker loaded once, the last load did not fail, and a worker is loaded now."""
        pids = set(self.pids())
        return (self._pool is not None and not self._failure and self._loads >= self.size
                and bool(self._loaded & pids))

    def status(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "workers": self.size if self._pool is not None else 0,
            "pids": self.pids(),
            "busy": self._inflight,
            "queued": self._waiting,
            "restarts": self.restarts,
        }

    # -- tasks --------------------------------------------------------------------------------
    def _semaphore(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        """One slot per worker, for the running loop (tests share a pool across loops)."""
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self.size))
        return self._gate[1]

    async def run(self, fn: Callable[..., Any], *args: Any, timeout_s: float) -> Any:
        """``fn(*args)`` in a free worker, killed after ``timeout_s`` of running.

        Raises WorkerTimeout, WorkerDied, WorkerStartFailed, or what ``fn`` raised.
        """
        gate = self._semaphore(asyncio.get_running_loop())
        self._waiting += 1
        try:
            await gate.acquire()
        finally:
            self._waiting -= 1
        self._inflight += 1
        try:
            return await self._run(fn, args, timeout_s)
        finally:
            self._inflight -= 1
            gate.release()

    def _schedule(self, fn: Callable[..., Any], args: tuple[Any, ...],
                  timeout_s: float) -> tuple[ProcessPool, Future[Any]]:
        self._drain()
        if self._failure and not self._loaded & set(self.pids()):  # no worker can load: fail now
            raise WorkerStartFailed(self._failure)
        for _ in range(2):
            if self._pool is None:
                self.start()
            elif not self._pool.active:
                self._rebuild("a worker died while none was busy")
            pool = self._pool
            assert pool is not None
            try:
                future = pool.schedule(fn, args, timeout=timeout_s)
            except RuntimeError:  # pebble gave up on the pool between the check and the call
                continue
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)
            return pool, future
        raise WorkerDied(f"the {self.name} workers could not be started")

    async def _result(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Any:
        """Schedule the task and wait for it; again on fresh workers if its pool broke before any worker took it.

        (pebble stops reading its queue when it gives up on a pool, so a task that was queued just
        then would wait forever.) A caller that gives up does not kill the worker: its task just finishes.
        """
        for _ in range(3):
            pool, future = self._schedule(fn, args, timeout_s)
            waiter = asyncio.wrap_future(future)
            waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved, if the caller left
            while not waiter.done():
                await asyncio.wait({waiter}, timeout=ORPHAN_CHECK_S)
                # never taken by a worker, and none will take it: safe to run again
                if not waiter.done() and not pool.active and not future.running() and future.cancel():
                    break
            if not future.cancelled():
                return await asyncio.shield(waiter)
            if self._pool is None:
                raise WorkerDied(f"the {self.name} workers were stopped")
        raise WorkerDied(f"the {self.name} workers could not be started")

    async def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Any:
        task = getattr(fn, "__name__", str(fn))
        try:
            return await self._result(fn, args, timeout_s)
        except TimeoutError as e:
            if isinstance(e.__cause__, RemoteTraceback):  # raised by the task itself
                raise
            self.restarts += 1
            log_event(f"{self.name}.worker_replaced", level=logging.WARNING,
                      reason=f"timeout after {timeout_s:g} s", task=task)
            raise WorkerTimeout(f"took longer than {timeout_s:g} s") from None
        except ProcessExpired as e:
            self.restarts += 1
            log_event(f"{self.name}.worker_replaced", level=logging.WARNING,
                      reason=f"worker {e.pid} died (exit code {e.exitcode})", task=task)
            raise WorkerDied(f"worker {e.pid} died (exit code {e.exitcode})") from None
        except BrokenProcessPool:
            # pebble gives up on the whole pool when a worker dies while none is busy, failing the
            # tasks still waiting for a worker; the next call starts fresh workers.
            self.restarts += 1
            log_event(f"{self.name}.worker_replaced", level=logging.WARNING,
                      reason="a worker died before it took this task", task=task)
            raise WorkerDied("a worker died before it took this task") from None
