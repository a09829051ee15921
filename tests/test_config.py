"""Configuration: the example file documents every key; bad keys and types stop start-up clearly."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from voicebot.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"


def test_example_lists_every_key_with_its_default_and_a_comment():
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    defaults = Config()
    text = EXAMPLE.read_text(encoding="utf-8")
    for f in dataclasses.fields(Config):
        if f.name in ("base_dir", "anchors", "source"):
            continue
        section = getattr(defaults, f.name)
        assert set(data[f.name]) == {g.name for g in dataclasses.fields(section)}, f.name
        for key, value in data[f.name].items():
            assert value == getattr(section, key), f"{f.name}.{key}"
            assert re.search(rf"^{key} = .*#", text, re.M), f"{f.name}.{key} has no comment"


def test_example_loads_and_matches_embedded_default():
    assert load_config(EXAMPLE, environ={}).redacted() == load_config(None, environ={}).redacted()


@pytest.mark.parametrize(("toml", "message"), [
    ('[wechat]\napp_secrett = "x"\n', r"c\.toml.*wechat\.app_secrett"),
    ('[server]\nport = "eighty"\n', r"c\.toml.*server\.port.*int"),
    ("[sever]\nport = 1\n", r"unknown section \[sever\]"),
], ids=["unknown key", "wrong type", "unknown section"])
def test_a_bad_file_is_refused_naming_the_key_and_the_file(tmp_path, toml, message):
    p = tmp_path / "c.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(p, environ={})


def test_environment_overrides_secrets_and_types(tmp_path):
    env = {
        "VOICEBOT_WECHAT__APP_SECRET": "s3cret",
        "VOICEBOT_SERVER__PORT": "9001",
        "VOICEBOT_SHOP__SELLERS": '["oA", "oB"]',
        "VOICEBOT_ASR__USE_GRAMMAR": "false",
    }
    config = load_config(None, environ=env)
    assert config.wechat.app_secret == "s3cret"
    assert config.server.port == 9001
    assert config.shop.sellers == ["oA", "oB"]
    assert config.asr.use_grammar is False
    assert "s3cret" not in repr(config.redacted())


def test_bad_environment_value_is_named():
    with pytest.raises(ConfigError, match="VOICEBOT_SERVER__PORT"):
        load_config(None, environ={"VOICEBOT_SERVER__PORT": "lots"})
    with pytest.raises(ConfigError, match="VOICEBOT_SERVER__PROT"):
        load_config(None, environ={"VOICEBOT_SERVER__PROT": "1"})


def test_relative_paths_resolve_next_to_the_config_file(tmp_path):
    p = tmp_path / "sub" / "c.toml"
    p.parent.mkdir()
    p.write_text('[server]\ndata_dir = "d"\n')
    config = load_config(p, environ={})
    assert config.db_path == tmp_path / "sub" / "d" / "voicebot.db"
    assert config.tts_cache_dir == tmp_path / "sub" / "d" / "tts-cache"


def test_serve_refuses_a_bad_config_with_a_message(tmp_path):
    from click.testing import CliRunner

    from voicebot.cli import main

    p = tmp_path / "c.toml"
    p.write_text("[shop]\ntimezone = \"Mars/Olympus\"\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(p)])
    assert result.exit_code != 0
    assert "shop.timezone" in result.output and str(p) in result.output


def test_paths_left_out_of_a_config_elsewhere_stay_where_voicebot_runs(tmp_path, monkeypatch):
    """A config kept in /etc/voicebot must not move the models and Kokoro's voices there unasked."""
    etc, work = tmp_path / "etc" / "voicebot", tmp_path / "opt"
    etc.mkdir(parents=True)
    work.mkdir()
    monkeypatch.chdir(work)
    p = etc / "config.toml"
    p.write_text('[server]\ndata_dir = "/var/lib/voicebot"\n[tts]\ncache_dir = "cache"\n')
    config = load_config(p, environ={})
    assert config.models_dir == work / "models"  # not /etc/voicebot/models
    assert config.kokoro_npm_cache == work / ".cache" / "npm"
    assert config.tts_cache_dir == etc / "cache"  # written in the file: next to it
    assert config.data_dir == Path("/var/lib/voicebot")
    env = load_config(p, environ={"VOICEBOT_TTS__CACHE_DIR": "c2"})
    assert env.tts_cache_dir == work / "c2"  # from the environment: from where voicebot runs
