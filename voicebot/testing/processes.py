"""Which processes are alive and whose children they are, from ``/proc`` (Linux; for tests)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start_ticks: int  # clock ticks after boot
    cmdline: str


def _read(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    if fields[0] == "Z":  # a zombie has exited; only its parent's wait() is missing
        return None
    return Proc(pid, int(fields[1]), int(fields[19]), cmd.strip())


def processes() -> list[Proc]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (p := _read(int(entry))) is not None:
            out.append(p)
    return out


def descendants(pid: int) -> list[Proc]:
    """Live processes below ``pid`` (children, their children, ...)."""
    by_parent: dict[int, list[Proc]] = {}
    for p in processes():
        by_parent.setdefault(p.ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            out.append(child)
            todo.append(child.pid)
    return out


def alive(pid: int) -> bool:
    return _read(pid) is not None


def now_ticks() -> int:
    """The current time in the clock ticks of ``Proc.start_ticks``."""
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return int(uptime * os.sysconf("SC_CLK_TCK"))


def wait_gone(pids: list[int], timeout_s: float = 10.0) -> list[int]:
    """Poll until none of ``pids`` is alive (or the timeout); returns those still alive."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = [pid for pid in pids if alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
