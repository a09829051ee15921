"""``voicebot say`` writes a playable file in each format, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.audio.decode import decode_sync
from voicebot.audio.levels import rms_dbfs
from voicebot.audio.sniff import sniff
from voicebot.cli import main
from voicebot.config import AudioConfig

SNIFFED = {"amr": "amr-nb", "mp3": "mp3", "ogg": "ogg", "wav": "wav"}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[tts]\nengines = {{ zh = "espeak" }}\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["amr", "mp3", "ogg", "wav"])
def test_say_writes_audio_that_decodes(fmt: str, tmp_path: Path, config_file: Path) -> None:
    out = tmp_path / f"reply.{fmt}"
    result = CliRunner().invoke(
        main, ["say", "两百块，库存十个", "--lang", "zh", "-o", str(out), "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    data = out.read_bytes()
    assert info == {"path": str(out), "format": fmt, "duration": info["duration"], "bytes": len(data),
                    "language": "zh", "engine": "espeak", "voice": "cmn-latn-pinyin+f3"}
    assert sniff(data) == SNIFFED[fmt]
    pcm = decode_sync(data, AudioConfig())  # raises SilentAudio if nothing was spoken
    assert 1.0 < pcm.duration < 8.0
    assert pcm.duration == pytest.approx(info["duration"], rel=0.1)
    assert rms_dbfs(pcm.data) > -35
    assert list((tmp_path / "data" / "tts-cache").rglob(f"*.{fmt}"))


def test_say_refuses_unknown_suffix_and_language(tmp_path: Path, config_file: Path) -> None:
    runner = CliRunner()
    bad_suffix = runner.invoke(main, ["say", "hi", "-o", str(tmp_path / "x.flac"), "--config", str(config_file)])
    assert bad_suffix.exit_code != 0 and ".flac" in bad_suffix.output
    bad_lang = runner.invoke(main, ["say", "hi", "--lang", "fr", "-o", str(tmp_path / "x.amr")])
    assert bad_lang.exit_code != 0 and "fr" in bad_lang.output


def test_say_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["say", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
