"""One store, two engines: the same schema, the same statements, the same guarantees on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from voicebot.config import ConfigError, load_config
from voicebot.store.db import describe, open_db, write_tx
from voicebot.store.errors import IntegrityError
from voicebot.store.migrations import SCHEMA_VERSION, schema_version
from voicebot.store.pgsql import to_postgres
from voicebot.store.postgres import PgDatabase, mask_url

pytestmark = pytest.mark.both_engines


def _schema(db) -> dict[str, dict]:
    """Per table: columns with their NOT NULL, and the column sets of its unique keys (names aside)."""
    if isinstance(db, PgDatabase):
        cols = db.execute(
            "SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name != 'voicebot_schema'").fetchall()
        uniques = db.execute(
            "SELECT t.relname, array_agg(a.attname ORDER BY a.attname)::text FROM pg_index i"
            " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indisunique AND n.nspname = current_schema() GROUP BY i.indexrelid, t.relname").fetchall()
        unique = [(t, tuple(c.strip("{}").replace('"', "").split(","))) for t, c in uniques]
    else:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
        cols, unique = [], []
        for t in tables:
            info = db.execute(f"SELECT name, \"notnull\", pk FROM pragma_table_info('{t}')").fetchall()
            cols += [(t, name, bool(notnull) or pk > 0) for name, notnull, pk in info]
            pk = tuple(sorted(name for name, _, k in info if k > 0))
            if pk:
                unique.append((t, pk))
            for (index,) in db.execute(f"SELECT name FROM pragma_index_list('{t}') WHERE \"unique\" = 1").fetchall():
                names = db.execute(f"SELECT name FROM pragma_index_info('{index}')").fetchall()
                unique.append((t, tuple(sorted(n for (n,) in names))))
    out: dict[str, dict] = {}
    for table, column, not_null in cols:
        out.setdefault(table, {"columns": {}, "unique": set()})["columns"][column] = bool(not_null)
    for table, key in unique:
        out[table]["unique"].add(key)
    return out


@pytest.mark.sqlite_only  # opens one database of each engine itself
def test_both_engines_have_the_same_tables_columns_nullability_and_unique_keys(tmp_path, pg_url):
    sqlite, pg = open_db(tmp_path / "shop.db"), open_db(pg_url())
    try:
        assert schema_version(sqlite) == schema_version(pg) == SCHEMA_VERSION
        expected, got = _schema(sqlite), _schema(pg)
        assert got.keys() == expected.keys()
        for table in expected:
            assert got[table] == expected[table], table
    finally:
        sqlite.close()
        pg.close()


def test_a_fresh_database_has_shop_one_and_ids_go_on_after_it(tmp_path):
    db = open_db(tmp_path / "shop.db")
    try:
        assert [r["id"] for r in db.query("SELECT id FROM shops")] == [1]
        with write_tx(db):
            cur = db.execute("INSERT INTO shops (code, created_at, updated_at) VALUES (?, ?, ?)", ("ab", "t", "t"))
        assert (cur.rowcount, cur.lastrowid) == (1, 2)
        with write_tx(db):
            again = db.execute("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                               ("k", "v", "t"))
            assert again.rowcount == 1
            again = db.execute("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                               ("k", "w", "t"))
            assert again.rowcount == 0
        assert db.execute("SELECT value FROM kv WHERE key = ?", ("k",)).fetchone() == ("v",)
    finally:
        db.close()


def test_names_that_differ_only_in_case_are_one_name(tmp_path):
    db = open_db(tmp_path / "shop.db")
    try:
        with write_tx(db):
            db.execute("INSERT INTO shops (code, created_at, updated_at) VALUES (?, ?, ?)", ("Feng", "t", "t"))
        assert db.execute("SELECT count(*) FROM shops WHERE code = ?", ("fENG",)).fetchone() == (1,)
        with pytest.raises(IntegrityError), write_tx(db):
            db.execute("INSERT INTO shops (code, created_at, updated_at) VALUES (?, ?, ?)", ("FENG", "t", "t"))
    finally:
        db.close()


def test_a_refused_statement_inside_a_savepoint_leaves_the_transaction_usable(tmp_path):
    db = open_db(tmp_path / "shop.db")
    try:
        with write_tx(db):
            with pytest.raises(IntegrityError), db.atomic():
                db.execute("INSERT INTO shops (id, code, created_at, updated_at) VALUES (1, 'zz', 't', 't')")
            db.execute("INSERT INTO kv (key, value, updated_at) VALUES ('after', 'yes', 't')")
        assert db.execute("SELECT value FROM kv WHERE key = 'after'").fetchone() == ("yes",)
    finally:
        db.close()


def test_write_transactions_never_interleave_a_read_check_write(tmp_path):
    """Two connections each add 1 to a counter 40 times by reading then writing: nothing is lost."""
    path = tmp_path / "shop.db"
    first = open_db(path)
    with write_tx(first):
        first.execute("INSERT INTO kv (key, value, updated_at) VALUES ('n', '0', 't')")
    errors: list[BaseException] = []

    def bump(db) -> None:
        try:
            for _ in range(40):
                with write_tx(db):
                    n = int(db.execute("SELECT value FROM kv WHERE key = 'n'").fetchone()[0])
                    db.execute("UPDATE kv SET value = ? WHERE key = 'n'", (str(n + 1),))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    second = open_db(path)
    threads = [threading.Thread(target=bump, args=(db,)) for db in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not errors, errors
        assert first.execute("SELECT value FROM kv WHERE key = 'n'").fetchone() == ("80",)
    finally:
        first.close()
        second.close()


def test_several_processes_starting_at_once_migrate_once(tmp_path, db_target, store_engine):
    """Eight connections open (and migrate) one fresh database at the same moment: all succeed, one schema."""
    target = db_target
    if store_engine == "postgresql":  # an empty database, not the migrated template
        empty = PgDatabase(target)
        empty.execute("DROP SCHEMA public CASCADE")
        empty.execute("CREATE SCHEMA public")
        assert schema_version(empty) == 0
        empty.close()
    start, results = threading.Barrier(8), []

    def opener() -> None:
        start.wait()
        try:
            db = open_db(target)
            results.append(schema_version(db))
            db.close()
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            results.append(e)

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [SCHEMA_VERSION] * 8
    db = open_db(target)
    try:
        assert db.execute("SELECT count(*) FROM shops").fetchone() == (1,)
    finally:
        db.close()


@pytest.mark.sqlite_only
def test_sql_is_translated_outside_string_literals_only():
    assert to_postgres("SELECT user, m.user FROM messages m WHERE user = ? AND note = 'who? user 5%'") == (
        "SELECT \"user\", m.user FROM messages m WHERE \"user\" = %s AND note = 'who? user 5%%'")
    assert to_postgres('SELECT "user", username FROM t WHERE x LIKE ?') == 'SELECT "user", username FROM t WHERE x LIKE %s'


@pytest.mark.sqlite_only
def test_a_postgres_url_is_configured_and_its_password_never_shown(tmp_path: Path):
    url = "postgresql://voicebot:s3cret@db.example:5432/voicebot"
    config = load_config(environ={"VOICEBOT_STORAGE__URL": url}, overrides={"server": {"data_dir": str(tmp_path)}})
    assert config.database == url
    assert mask_url(url) == "postgresql://voicebot:***@db.example:5432/voicebot"
    assert mask_url("postgresql:///vb") == "postgresql:///vb"
    assert describe(config.database) == {"engine": "postgresql",  # what /healthz shows a trusted caller
                                         "at": "postgresql://voicebot:***@db.example:5432/voicebot"}
    assert load_config(environ={}, overrides={"server": {"data_dir": str(tmp_path)}}).database == str(
        tmp_path / "voicebot.db")
    with pytest.raises(ConfigError, match="postgresql://"):
        load_config(environ={"VOICEBOT_STORAGE__URL": "mysql://x"})
