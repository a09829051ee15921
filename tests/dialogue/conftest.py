"""Fixtures of the dialogue tests: a real SQLite shop with a small zh and en catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.config import load_config
from voicebot.shop.facade import Shop
from voicebot.store.db import open_db
from voicebot.store.scoped import ShopDb


@pytest.fixture
def config(tmp_path: Path):
    return load_config(
        environ={}, overrides={"server": {"data_dir": str(tmp_path)}, "shop": {"sellers": ["boss"]}}
    )


@pytest.fixture
def db(config):
    db = ShopDb(open_db(config.db_path), 1)  # the dialogue works on one shop's view of the database
    yield db
    db.close()


@pytest.fixture
def shop(db, config) -> Shop:
    s = Shop(db, config)
    s.add_product("绿松石手链", 200, 10, "条")
    s.add_product("绿松石耳环", 120, 6, "对")
    s.add_product("蜂蜜", 30, 20, "瓶")
    return s
