"""Code that runs inside the single TTS worker process (pyttsx3 is blocking and not thread-safe).

The engine is created once per process by :func:`init_worker`; that process-level global is
the point of a dedicated worker and never exists in the service process.
"""

from __future__ import annotations

import os
import sys
import wave
from typing import Any

_engine: Any = None


def init_worker() -> None:
    """ProcessPoolExecutor initializer: start espeak-ng through pyttsx3, once."""
    global _engine
    from voicebot.workers import die_with_parent

    die_with_parent()
    # pyttsx3's espeak driver print()s "Audio saved to ..." after every file; keep stdout clean
    # (the CLI prints JSON there).
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    # espeak-ng, a C library in this process, writes its warnings straight to fd 2, which is the
    # service's log stream of one JSON line per event; errors reach the service as exceptions.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    import pyttsx3

    _engine = pyttsx3.init("espeak")


def list_voices() -> list[str]:
    """Voice ids espeak-ng offers (e.g. ``sit/cmn``, ``gmw/en-us``, ``roa/ko``...)."""
    return sorted(v.id for v in _engine.getProperty("voices"))


def _frames(path: str) -> tuple[int, int]:
    try:
        with wave.open(path, "rb") as w:
            return w.getnframes(), w.getframerate()
    except (FileNotFoundError, EOFError, wave.Error):
        return 0, 1


def synthesize(text: str, voice: str, rate: int, path: str, attempts: int = 3) -> float:
    """Speak ``text`` into a 22.05 kHz mono WAV at ``path``; return its duration in seconds."""
    _engine.setProperty("voice", voice)
    _engine.setProperty("rate", rate)
    from pyttsx3.drivers import _espeak

    for _ in range(attempts):
        # pyttsx3's espeak driver runs espeak-ng asynchronously and stops its loop on the first
        # "message terminated" event. On a busy machine a late event from the previous call could
        # end this call early: an empty WAV, or one spoken with the previous rate (seen ~7% of
        # calls with both cores loaded). Draining espeak-ng before and after each call fixes that;
        # an empty result is said again.
        _espeak.Synchronize()
        _engine.save_to_file(text, path)
        _engine.runAndWait()
        _espeak.Synchronize()
        frames, framerate = _frames(path)
        if frames:
            return frames / framerate
    raise RuntimeError(f"espeak-ng produced no audio for voice {voice!r} after {attempts} attempts")
