"""Worker processes die with the service: every worker pool's initializer calls :func:`die_with_parent`.

A SIGKILLed ``voicebot serve`` cannot shut its pools down, and an orphaned worker (a loaded
Vosk model, or espeak spinning a core) would live on. Two guards, both cheap:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so the kernel kills the worker when its parent dies;
  (The kernel ties this to the *thread* that spawned the worker, so pools must be grown from
  long-lived threads: the event loop's, as ``run_in_executor``/``submit`` do.)
- anywhere: a daemon thread that notices ``os.getppid()`` change (the worker was re-parented) and
  exits the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.5


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
    import multiprocessing

    spawner = multiprocessing.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid else os.getppid()
    if use_prctl:
        _set_pdeathsig()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, interval_s), name="voicebot-parent-watch",
                     daemon=True).start()
