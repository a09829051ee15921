"""Real Wyoming speech servers on loopback ports, for tests and benchmarks: started, awaited, stopped.

Each server runs in its own session (process group), so stopping or killing it takes its worker
processes along; nothing is left behind.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from voicebot.remote.servers import ServerFailed, describe
from voicebot.testing.process_group import ProcessGroup, free_port

__all__ = ["RunningServer", "free_port", "start_faster_whisper", "start_speech_server"]


@dataclass
class RunningServer(ProcessGroup):
    """One speech server (``voicebot speech serve`` or ``wyoming-faster-whisper``)."""

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    async def ready(self, timeout_s: float = 300.0) -> None:
        """Until the server answers ``describe``; RuntimeError (with its log) if it exits or times out."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                await describe(self.uri, timeout_s=5)
                return
            except ServerFailed:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not answer in {timeout_s:g} s:\n"
                                       f"{self.tail()}") from None
                await asyncio.sleep(0.3)


def _spawn(cmd: list[str], log: Path, port: int, env: dict[str, str] | None, cwd: Path | None) -> RunningServer:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True)
    return RunningServer(proc, port, log)


def start_speech_server(config: Path, languages: list[str], log: Path, port: int | None = None,
                        env: dict[str, str] | None = None) -> RunningServer:
    """``voicebot speech serve`` with ``config`` on a loopback port (call :meth:`RunningServer.ready`)."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "voicebot", "speech", "serve", "--uri", f"tcp://127.0.0.1:{port}",
           "--config", str(config), *[a for lang in languages for a in ("--language", lang)]]
    return _spawn(cmd, log, port, env, config.parent)


def start_faster_whisper(model_dir: Path, data_dir: Path, log: Path, language: str = "zh",
                         port: int | None = None, threads: int = 1) -> RunningServer:
    """``wyoming-faster-whisper`` from PyPI on ``model_dir`` (a local faster-whisper folder), offline."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}",
           "--model", str(model_dir), "--data-dir", str(data_dir), "--local-files-only",
           "--language", language, "--beam-size", "5", "--compute-type", "int8", "--cpu-threads", str(threads), "--stt-library",
           "faster-whisper"]
    return _spawn(cmd, log, port, {"HF_HUB_OFFLINE": "1"}, data_dir)
