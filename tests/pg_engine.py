"""Tests on both engines: every database a PostgreSQL case opens is a fresh PostgreSQL database.

A module listed in ``BOTH_ENGINES`` (or marked ``both_engines``) runs each test twice, ``[sqlite]`` and
``[postgresql]``. In the PostgreSQL run the SQLite opener (``voicebot.store.db.open_sqlite``) is replaced
by one that maps each file path the test uses to its own database, created from a migrated template
(``CREATE DATABASE … TEMPLATE``, fast) and dropped after the test; ``pg_url()`` gives a fresh database's
URL for tests that configure ``[storage] url`` themselves (subprocesses, the CLI).

PostgreSQL comes from the ``PG*`` environment that ``pg_virtualenv -t -v 15`` sets (``make test`` runs the
suite under it). Without a reachable server the PostgreSQL cases FAIL with a message saying so; set
``VOICEBOT_TEST_PG=0`` to leave them out on purpose for a quick local run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

import voicebot.store.db as store_db
from voicebot.store.db import open_db
from voicebot.store.postgres import PgDatabase

ENGINES = ("sqlite", "postgresql")
SWITCH_ENV = "VOICEBOT_TEST_PG"  # "0": the PostgreSQL cases are left out (quick local runs only)
# Test modules whose tests run on both engines (store, shop, dialogue, pipeline, outbox, crash/restart,
# console sessions, nonces, exports, CLI, shop scoping). Keep it to what touches SQL: CI time.
BOTH_ENGINES = frozenset({
    "test_store_messages.py", "test_store_outbox.py",
    "test_shop_catalog.py", "test_shop_undo.py", "test_shop_scoping.py", "test_shop_money.py",
    "test_shop_reports.py", "test_orders.py", "test_order_numbers.py",
    # dialogue conversations (several turns, the shop checked after each)
    "test_dialogue.py", "test_dialogue_flows.py", "test_dialogue_readback.py", "test_dialogue_replay.py",
    "test_dialogue_shop_talk.py", "test_dialogue_trust.py", "test_intents.py", "test_pending_caps.py",
    "test_village_conversations.py", "test_conversation_corpus.py",
    # the pipeline, the outbox, crash and restart, nonces, console sessions, the CLI and exports
    "test_pipeline_stages.py", "test_outbox_delivery.py", "test_crash_orders.py", "test_wechat_restart.py",
    "test_wechat_forgery.py", "test_console_http.py", "test_cli_shop.py", "test_cli_shops.py",
    "test_shop_photos.py",
})
# Checked on PostgreSQL by hand but left out of CI for time (the console pages take ~30 s a test):
# test_console_views.py, test_console_shops.py, test_web_market.py.
_counter = itertools.count(1)


def pg_wanted() -> bool:
    return os.environ.get(SWITCH_ENV, "1") != "0"


def server_url(dbname: str) -> str:
    """A URL for ``dbname`` on the server the ``PG*`` environment names."""
    env = os.environ
    user = quote(env.get("PGUSER", "postgres"), safe="")
    password = env.get("PGPASSWORD")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    return f"postgresql://{auth}@{env.get('PGHOST', 'localhost')}:{env.get('PGPORT', '5432')}/{dbname}"


class PgServer:
    """The test session's PostgreSQL server: a migrated template and fresh databases made from it."""

    def __init__(self) -> None:
        try:
            self.admin = psycopg.connect(server_url(os.environ.get("PGDATABASE", "postgres")), autocommit=True,
                                         connect_timeout=5)
        except psycopg.OperationalError as e:
            raise RuntimeError(
                "PostgreSQL is not reachable for the [postgresql] test cases. Run the tests under a throw-away "
                "cluster: `pg_virtualenv -t -v 15 .venv/bin/python -m pytest …` (what `make test` does), or set "
                f"{SWITCH_ENV}=0 to leave those cases out of a quick local run. ({e})") from e
        self.prefix = f"vbt{os.getpid()}_"
        self.template = f"{self.prefix}template"
        self._drop(self.template)
        self.admin.execute(f"CREATE DATABASE {self.template}")
        open_db(server_url(self.template)).close()

    def new_database(self) -> str:
        """A fresh, migrated database's URL."""
        name = f"{self.prefix}{next(_counter)}"
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def _drop(self, name: str) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def drop(self, names: list[str]) -> None:
        for name in names:
            self._drop(name)

    def close(self) -> None:
        self._drop(self.template)
        self.admin.close()


class PgRedirect:
    """One test's PostgreSQL databases: one per SQLite path it opens, plus any ``pg_url()`` asks for."""

    def __init__(self, server: PgServer) -> None:
        self.server = server
        self.by_path: dict[str, str] = {}
        self.created: list[str] = []

    def url(self) -> str:
        name = self.server.new_database()
        self.created.append(name)
        return server_url(name)

    def url_for(self, path: Path | str) -> str:
        """The database standing for the SQLite file ``path`` (created on first use)."""
        key = str(Path(path).resolve())
        if key not in self.by_path:
            self.by_path[key] = self.url()
        return self.by_path[key]

    def open_for(self, path: Path) -> PgDatabase:
        return PgDatabase(self.url_for(path))

    def close(self) -> None:
        self.server.drop(self.created)


def parametrize(metafunc: pytest.Metafunc) -> None:
    """``pytest_generate_tests``: the modules in ``BOTH_ENGINES`` run on both engines."""
    if "store_engine" not in metafunc.fixturenames:
        return
    both = (Path(str(metafunc.definition.fspath)).name in BOTH_ENGINES
            or metafunc.definition.get_closest_marker("both_engines") is not None)
    if both and metafunc.definition.get_closest_marker("sqlite_only") is None:
        engines = ENGINES if pg_wanted() else ("sqlite",)
        metafunc.parametrize("store_engine", engines, indirect=True)


def engine_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The body of the autouse ``store_engine`` fixture."""
    engine = getattr(request, "param", "sqlite")
    if engine != "postgresql":
        yield engine
        return
    server: PgServer = request.getfixturevalue("pg_server")
    redirect = PgRedirect(server)
    monkeypatch.setattr(store_db, "open_sqlite", redirect.open_for)
    request.node.stash[REDIRECT] = redirect
    try:
        yield engine
    finally:
        redirect.close()


def new_url(request: pytest.FixtureRequest) -> Callable[[], str]:
    """The body of the ``pg_url`` fixture: a factory of fresh database URLs for this test."""
    if not pg_wanted():
        pytest.skip(f"{SWITCH_ENV}=0: PostgreSQL left out of this run on purpose")
    redirect = request.node.stash.get(REDIRECT, None)
    if redirect is None:
        redirect = PgRedirect(request.getfixturevalue("pg_server"))
        request.node.stash[REDIRECT] = redirect
        request.addfinalizer(redirect.close)
    return redirect.url


def env_for(request: pytest.FixtureRequest) -> Callable[[Path | str], dict[str, str]]:
    """The body of the ``store_env`` fixture."""
    redirect = request.node.stash.get(REDIRECT, None)

    def env(db_path: Path | str) -> dict[str, str]:
        return {} if redirect is None else {"VOICEBOT_STORAGE__URL": redirect.url_for(db_path)}

    return env


REDIRECT = pytest.StashKey[PgRedirect]()


def refuse_writes(db: object, table: str, message: str = "disk says no") -> None:
    """Make every INSERT and UPDATE on ``table`` fail inside the database (a trigger, on either engine)."""
    raw = getattr(db, "raw", db)
    if isinstance(raw, PgDatabase):
        raw.execute(f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql"
                    f" AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$")
        raw.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT OR UPDATE ON {table}"
                    f" FOR EACH ROW EXECUTE FUNCTION refuse_{table}()")
        return
    for event in ("INSERT", "UPDATE"):
        raw.execute(f"CREATE TRIGGER refuse_{table}_{event} BEFORE {event} ON {table}"  # type: ignore[attr-defined]
                    f" BEGIN SELECT RAISE(ABORT, '{message}'); END")
