"""A process started in its own session (process group) on a loopback port, for tests and benchmarks:
stopping or killing it takes its worker processes along, so nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ProcessGroup:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and its workers (a machine that dies mid-request)."""
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; the whole process group either way."""
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)  # a frozen one must be able to hear TERM
            self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout_s)
        self.signal(signal.SIGKILL)  # workers still exiting, or a process that ignored TERM
        self.proc.wait(timeout=30)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""
