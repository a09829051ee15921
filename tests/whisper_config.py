"""A zh shop configuration whose voice notes go to Whisper (test helper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voicebot.config import Config, load_config


def make_whisper_config(data_dir: Path, models_dir: Path, **sections: dict[str, Any]) -> Config:
    """A zh shop whose zh and en voice notes go to Whisper (one worker), models in ``models_dir``."""
    overrides: dict[str, dict[str, Any]] = {
        "server": {"data_dir": str(data_dir), "port": 8080},
        "shop": {"language": "zh"},
        "asr": {"models_dir": str(models_dir), "engine_by_language": {"zh": "whisper", "en": "whisper"},
                # one thread: CTranslate2's multi-threaded sums differ run to run on borderline notes
                "whisper_cpu_threads": 1},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_config(overrides=overrides, environ={})
