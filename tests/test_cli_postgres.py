"""The command line on PostgreSQL: a config file naming ``[storage] url`` is all a command needs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.cli import main


@pytest.fixture
def pg_config(tmp_path: Path, pg_url) -> tuple[Path, str]:
    url = pg_url()
    path = tmp_path / "county.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[storage]\nurl = "{url}"\n', encoding="utf-8")
    return path, url


def _run(config: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in args else {"output": result.output}


def test_shop_orders_and_export_commands_work_on_postgres(pg_config, tmp_path):
    config, _ = pg_config
    _run(config, "shops", "add", "郭姐绿松石", "--seller", "oGuo", "--lang", "zh")
    _run(config, "shop", "add", "绿松石手链", "--price", "200", "--stock", "10", "--unit", "条", "--shop", "郭姐绿松石")
    _run(config, "shop", "stock", "绿松石手链", "+5", "--shop", "郭姐绿松石")
    listed = _run(config, "shop", "list", "--json", "--shop", "郭姐绿松石")
    assert [(p["name"], p["stock"], p["price"]) for p in listed["products"]] == [("绿松石手链", 15, 200)]
    _run(config, "shop", "undo", "--shop", "郭姐绿松石")
    out = tmp_path / "export"
    _run(config, "export", "--out", str(out), "--shop", "郭姐绿松石")
    with (out / "products.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["name"], r["stock"]) for r in rows] == [("绿松石手链", "10")]
    # nothing was written to a SQLite file
    assert not (tmp_path / "data" / "voicebot.db").exists()


def test_shops_list_in_another_process_reads_the_same_database(pg_config, tmp_path):
    config, url = pg_config
    _run(config, "shops", "add", "冯记蜂蜜", "--seller", "oFeng", "--lang", "zh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    done = subprocess.run([sys.executable, "-m", "voicebot", "shops", "list", "--json", "--config", str(config)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = [s["name"] for s in json.loads(done.stdout)["shops"]]
    assert "冯记蜂蜜" in names
    password = url.split(":")[2].split("@")[0]
    assert password not in done.stdout + done.stderr


def test_a_database_that_cannot_be_reached_is_a_short_error_without_the_password(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[storage]\nurl = "postgresql://voicebot:hunter2@127.0.0.1:9/voicebot"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["shops", "list", "--config", str(config)])
    assert result.exit_code == 1 and "database:" in result.output, result.output
    assert "hunter2" not in result.output
