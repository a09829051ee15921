"""Run an audio tool (ffmpeg, sox) with bytes in and bytes out, a timeout, and a kill on expiry.

The codec modules describe their work as generators of :class:`Run` / :class:`Call` steps
(see :func:`drive_sync` and :func:`drive_async`), so the blocking CLI/worker path and the
event-loop path share every decision and differ only in how a step is carried out.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from voicebot.audio.errors import AudioTimeout

T = TypeVar("T")


@dataclass(frozen=True)
class Run:
    """Run ``cmd`` with ``stdin`` piped in; the step's result is a :class:`Done`."""

    cmd: list[str]
    stdin: bytes
    timeout: float


@dataclass(frozen=True)
class Call:
    """Call a blocking Python function (e.g. the SILK decoder); off the event loop when async."""

    func: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: bytes
    stderr: bytes

    def last_error_line(self) -> str:
        """The last non-empty stderr line: ffmpeg and sox put the reason there."""
        lines = [ln.strip() for ln in self.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"


Steps = Generator[Run | Call, Any, T]


def _timeout_error(cmd: list[str], timeout: float) -> AudioTimeout:
    return AudioTimeout(f"{cmd[0]} did not finish within {timeout:g} s and was killed")


def run_sync(step: Run) -> Done:
    try:
        # subprocess.run kills the child when the timeout expires.
        p = subprocess.run(step.cmd, input=step.stdin, capture_output=True, timeout=step.timeout, check=False)
    except subprocess.TimeoutExpired:
        raise _timeout_error(step.cmd, step.timeout) from None
    return Done(p.returncode, p.stdout, p.stderr)


async def run_async(step: Run) -> Done:
    proc = await asyncio.create_subprocess_exec(
        *step.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(step.stdin), step.timeout)
    except TimeoutError:
        raise _timeout_error(step.cmd, step.timeout) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return Done(proc.returncode or 0, out, err)


def drive_sync(steps: Steps[T]) -> T:
    """Carry out ``steps`` in this thread, blocking."""
    try:
        step = next(steps)
        while True:
            try:
                result = run_sync(step) if isinstance(step, Run) else step.func(*step.args)
            except Exception as e:  # handed to the generator, which may translate it
                step = steps.throw(e)
            else:
                step = steps.send(result)
    except StopIteration as stop:
        return stop.value


async def drive_async(steps: Steps[T]) -> T:
    """Carry out ``steps`` without blocking the event loop."""
    try:
        step = next(steps)
        while True:
            try:
                if isinstance(step, Run):
                    result = await run_async(step)
                else:
                    result = await asyncio.to_thread(step.func, *step.args)
            except Exception as e:
                step = steps.throw(e)
            else:
                step = steps.send(result)
    except StopIteration as stop:
        return stop.value
