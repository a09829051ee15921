"""Forward-only schema migrations, tracked in ``PRAGMA user_version`` (SQLite) or the one-row table
``voicebot_schema`` (PostgreSQL).

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``. Each runs in its own write
transaction together with the version bump, so a crash leaves the database at a whole version, and two
processes starting at once apply it only once (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory
lock held around the whole run). Never edit a released migration; append a new one.

PostgreSQL starts from :data:`voicebot.store.pg_schema.BASELINE` (SQLite's schema at version
``BASELINE_VERSION``) and runs only the migrations after it, so **every migration from version 12 on
is written once for both engines**: portable SQL (``BIGINT``, ``TEXT``, ``DOUBLE PRECISION``; quote
``"user"``), or, where the engines need different statements (a new table's ``id``, a SQLite table
rebuild), a ``{"sqlite": [...], "postgresql": [...]}`` dict instead of a statement.

Conventions: money is integer fen (``*_fen``), times are UTC ISO text (``*_at``), JSON columns
end in ``_json``, booleans are 0/1 integers.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from voicebot.store.pg_schema import BASELINE, BASELINE_VERSION
from voicebot.store.postgres import MIGRATE_LOCK_KEY, PgDatabase
from voicebot.store.transactions import write_tx

# Version 1: the shop and the conversation log.
V1_CORE = [
    """CREATE TABLE products (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL COLLATE NOCASE CHECK (length(trim(name)) > 0),
        unit TEXT NOT NULL DEFAULT '',
        price_fen INTEGER NOT NULL CHECK (price_fen >= 0),
        stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # Names are unique among active products only: a removed product's name can be reused.
    "CREATE UNIQUE INDEX products_active_name ON products (name) WHERE active = 1",
    """CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        thumb_path TEXT NOT NULL,
        format TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE product_photos (
        product_id INTEGER NOT NULL REFERENCES products (id),
        photo_id INTEGER NOT NULL REFERENCES photos (id),
        position INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (product_id, photo_id)
    )""",
    """CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        channel_user_id TEXT NOT NULL,
        display_name TEXT,
        language TEXT,
        role TEXT NOT NULL DEFAULT 'buyer' CHECK (role IN ('seller', 'buyer')),
        unsubscribed INTEGER NOT NULL DEFAULT 0 CHECK (unsubscribed IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (channel, channel_user_id)
    )""",
    """CREATE TABLE customer_aliases (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        alias TEXT NOT NULL COLLATE NOCASE,
        created_at TEXT NOT NULL,
        UNIQUE (customer_id, alias)
    )""",
    "CREATE INDEX customer_aliases_alias ON customer_aliases (alias)",
    """CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER REFERENCES customers (id),
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'confirmed', 'shipped', 'done', 'cancelled')),
        created_by TEXT NOT NULL CHECK (created_by IN ('seller', 'buyer')),
        actor_id INTEGER REFERENCES customers (id),
        total_fen INTEGER NOT NULL CHECK (total_fen >= 0),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE order_items (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES orders (id),
        product_id INTEGER NOT NULL REFERENCES products (id),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen >= 0)
    )""",
    "CREATE INDEX order_items_order ON order_items (order_id)",
    """CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        actor_id INTEGER REFERENCES customers (id),
        kind TEXT NOT NULL,
        data_json TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
        created_at TEXT NOT NULL,
        undone_at TEXT
    )""",
    "CREATE INDEX actions_actor ON actions (actor_id, undone, id)",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        channel_msg_id TEXT,
        user TEXT NOT NULL,
        customer_id INTEGER REFERENCES customers (id),
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        kind TEXT NOT NULL CHECK (kind IN ('voice', 'image', 'text', 'event')),
        reply_to_id INTEGER REFERENCES messages (id),
        media_path TEXT,
        transcript TEXT,
        words_json TEXT,
        language TEXT,
        intent_json TEXT,
        action_id INTEGER REFERENCES actions (id),
        reply_text TEXT,
        reply_audio_path TEXT,
        timings_json TEXT,
        status TEXT NOT NULL DEFAULT 'received'
            CHECK (status IN ('received', 'processing', 'replied', 'failed')),
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (channel, channel_msg_id)
    )""",
]

# Version 2: hand-off tables for the pipeline and channels, plus indexes for the operator views.
V2_QUEUES = [
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id INTEGER REFERENCES messages (id),
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('voice', 'text', 'image')),
        payload_json TEXT NOT NULL DEFAULT '{}',
        media_path TEXT,
        dedup_key TEXT UNIQUE,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'gave_up')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
    """CREATE TABLE dialogue_state (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        state_json TEXT NOT NULL,
        expires_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, user)
    )""",
    """CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        expires_at TEXT,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX messages_created ON messages (created_at)",
    "CREATE INDEX messages_user ON messages (channel, user, id)",
    "CREATE INDEX messages_status ON messages (status)",
    "CREATE INDEX orders_customer_status ON orders (customer_id, status)",
    "CREATE INDEX orders_created ON orders (created_at)",
]

# Version 3: how each outbox row went out (the API, or a passive reply in WeChat's HTTP response),
# since only API sends count against a user's reply quota.
V3_SENT_VIA = [
    "ALTER TABLE outbox ADD COLUMN sent_via TEXT",
]

# Version 4: which process is running a message's pipeline, so two processes never run it twice.
V4_CLAIMED_BY = [
    "ALTER TABLE messages ADD COLUMN claimed_by TEXT",
]

# Version 5: each dialogue turn's result, keyed by its message, committed in the same transaction
# as its shop change: a run resumed after a crash replays the result instead of acting again,
# however many messages of one user were in flight and in whatever order they resume.
V5_DIALOGUE_TURNS = [
    """CREATE TABLE dialogue_turns (
        turn_id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        result_json TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
]

# Version 6: an outbox row records that a send was attempted before the API call, so an unknown
# outcome (timeout, process death mid-send) is known; such rows may end ``ambiguous`` rather than be
# sent twice. SQLite cannot change a CHECK constraint in place: the table is rebuilt.
_OUTBOX_COLUMNS = ("id, message_id, channel, user, kind, payload_json, media_path, dedup_key, status,"
                   " attempts, next_attempt_at, last_error, created_at, sent_at, sent_via")
V6_OUTBOX_ATTEMPTS = [
    """CREATE TABLE outbox_v6 (
        id INTEGER PRIMARY KEY,
        message_id INTEGER REFERENCES messages (id),
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('voice', 'text', 'image')),
        payload_json TEXT NOT NULL DEFAULT '{}',
        media_path TEXT,
        dedup_key TEXT UNIQUE,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'failed', 'gave_up', 'ambiguous')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        sent_via TEXT,
        attempt_started_at TEXT,
        ambiguous_attempts INTEGER NOT NULL DEFAULT 0
    )""",
    f"INSERT INTO outbox_v6 ({_OUTBOX_COLUMNS}) SELECT {_OUTBOX_COLUMNS} FROM outbox",
    "DROP TABLE outbox",
    "ALTER TABLE outbox_v6 RENAME TO outbox",
    "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
]

# Version 7: browser chat links. A seller link's token is stored only as its sha256; revoking keeps the row.
V7_WEB_LINKS = [
    """CREATE TABLE web_links (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        name TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
    "CREATE INDEX web_links_name ON web_links (name)",
]

# Version 8: the operator console: accounts (argon2 hashes), cookie sessions (token hashes only) and
# operators' corrections of what the bot heard, kept as labelled data.
V8_CONSOLE = [
    """CREATE TABLE console_users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE console_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES console_users (id),
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    """CREATE TABLE corrections (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages (id),
        operator TEXT NOT NULL,
        lang TEXT NOT NULL,
        role TEXT NOT NULL,
        products TEXT NOT NULL,
        heard TEXT,
        text TEXT NOT NULL,
        old_intent_json TEXT,
        new_intent_json TEXT NOT NULL,
        old_action_id INTEGER REFERENCES actions (id),
        new_action_id INTEGER REFERENCES actions (id),
        reply_text TEXT,
        notice_outbox_id INTEGER REFERENCES outbox (id),
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX corrections_message ON corrections (message_id)",
]

# Version 9: a total said for an order line (卖了三斤一共一百块) is kept exactly; NULL (every older line)
# means quantity × unit price, so existing orders read as before.
V9_LINE_TOTAL = [
    "ALTER TABLE order_items ADD COLUMN line_total_fen INTEGER CHECK (line_total_fen >= 0)",
]

# Version 10: a village of shops on one service. Shop 1 is the shop every older file described; each
# shop-owned row carries its shop. ``messages``/``outbox`` may have no shop yet (a buyer who has not chosen
# one). Three tables change a UNIQUE/PRIMARY KEY and are rebuilt (foreign keys off for this version only).
_CUSTOMER_COLUMNS = ("id, channel, channel_user_id, display_name, language, role, unsubscribed, created_at,"
                     " updated_at")
_PHOTO_COLUMNS = "id, sha256, path, thumb_path, format, width, height, bytes, created_at"
V10_SHOPS = [
    """CREATE TABLE shops (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(code) BETWEEN 2 AND 16),
        name TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT 'zh',
        timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
        currency TEXT NOT NULL DEFAULT 'CNY',
        low_stock_threshold INTEGER NOT NULL DEFAULT 3 CHECK (low_stock_threshold >= 0),
        revision INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        removed_at TEXT
    )""",
    "CREATE UNIQUE INDEX shops_active_name ON shops (name) WHERE removed_at IS NULL AND name != ''",
    """INSERT INTO shops (id, code, created_at, updated_at)
       VALUES (1, lower(hex(randomblob(3))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))""",
    # customers: one row per shop and channel user (a buyer of two shops is two customers)
    """CREATE TABLE customers_v10 (
        id INTEGER PRIMARY KEY,
        shop_id INTEGER NOT NULL DEFAULT 1 REFERENCES shops (id),
        channel TEXT NOT NULL,
        channel_user_id TEXT NOT NULL,
        display_name TEXT,
        language TEXT,
        role TEXT NOT NULL DEFAULT 'buyer' CHECK (role IN ('seller', 'buyer')),
        unsubscribed INTEGER NOT NULL DEFAULT 0 CHECK (unsubscribed IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (shop_id, channel, channel_user_id)
    )""",
    f"INSERT INTO customers_v10 ({_CUSTOMER_COLUMNS}) SELECT {_CUSTOMER_COLUMNS} FROM customers",
    "DROP TABLE customers",
    "ALTER TABLE customers_v10 RENAME TO customers",
    "CREATE INDEX customers_user ON customers (channel, channel_user_id)",
    """CREATE TABLE photos_v10 (
        id INTEGER PRIMARY KEY,
        shop_id INTEGER NOT NULL DEFAULT 1 REFERENCES shops (id),
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        thumb_path TEXT NOT NULL,
        format TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (shop_id, sha256)
    )""",
    f"INSERT INTO photos_v10 ({_PHOTO_COLUMNS}) SELECT {_PHOTO_COLUMNS} FROM photos",
    "DROP TABLE photos",
    "ALTER TABLE photos_v10 RENAME TO photos",
    """CREATE TABLE dialogue_state_v10 (
        shop_id INTEGER NOT NULL DEFAULT 1 REFERENCES shops (id),
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        state_json TEXT NOT NULL,
        expires_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (shop_id, channel, user)
    )""",
    """INSERT INTO dialogue_state_v10 (channel, user, state_json, expires_at, updated_at)
       SELECT channel, user, state_json, expires_at, updated_at FROM dialogue_state""",
    "DROP TABLE dialogue_state",
    "ALTER TABLE dialogue_state_v10 RENAME TO dialogue_state",
    *(f"ALTER TABLE {t} ADD COLUMN shop_id INTEGER NOT NULL DEFAULT 1"
      for t in ("products", "product_photos", "customer_aliases", "orders", "order_items", "actions",
                "dialogue_turns", "web_links", "corrections")),
    "ALTER TABLE messages ADD COLUMN shop_id INTEGER",
    "UPDATE messages SET shop_id = 1",
    "ALTER TABLE outbox ADD COLUMN shop_id INTEGER",
    "UPDATE outbox SET shop_id = 1",
    "DROP INDEX products_active_name",
    "CREATE UNIQUE INDEX products_active_name ON products (shop_id, name) WHERE active = 1",
    "CREATE INDEX orders_shop_created ON orders (shop_id, created_at)",
    "CREATE INDEX actions_shop_actor ON actions (shop_id, actor_id, undone, id)",
    "CREATE INDEX messages_shop ON messages (shop_id, id)",
    "CREATE INDEX customer_aliases_shop ON customer_aliases (shop_id, alias)",
    # where each buyer/follower is now: set by a QR scan, a shop's web link, or by voice
    """CREATE TABLE buyer_shops (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        shop_id INTEGER NOT NULL REFERENCES shops (id),
        source TEXT NOT NULL CHECK (source IN ('scan', 'voice', 'link', 'only', 'operator')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, user)
    )""",
    # console roles: an admin sees every shop, a helper only the shops granted
    "ALTER TABLE console_users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'helper'))",
    """CREATE TABLE console_user_shops (
        user_id INTEGER NOT NULL REFERENCES console_users (id),
        shop_id INTEGER NOT NULL REFERENCES shops (id),
        PRIMARY KEY (user_id, shop_id)
    )""",
]

# Version 11: orders are numbered per shop (a seller hears "三号订单", not the village's 3417th order).
# Every existing order keeps its id as its number, so a number a seller has already heard still means the
# same order; a new order takes its shop's max + 1 (shop/orders.py, in the insert's write transaction).
V11_ORDER_NUMBERS = [
    "ALTER TABLE orders ADD COLUMN number INTEGER CHECK (number > 0)",
    "UPDATE orders SET number = id",
    "CREATE UNIQUE INDEX orders_shop_number ON orders (shop_id, number)",
]

# Version 12: leases shared by every service process on the store (store/leases.py): ``process:<host:pid>``
# says a process is alive (its heartbeat renews it, and the messages it claimed stay its own while it is
# fresh); ``job:<name>`` lets one process run a periodic job (media retention) for everyone.
V12_LEASES = [
    """CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX messages_claimed ON messages (claimed_by, status)",
]

Step = str | dict[str, list[str]]  # a statement for both engines, or each engine's own statements
# Version 13: rate counters shared by every service process (store/rates.py): a browser chat's limits per
# identity, address and overall hold for the whole store, not once per process behind a load balancer.
# Times are epoch milliseconds (BIGINT: PostgreSQL's integer would overflow).
V13_RATE_EVENTS = [
    """CREATE TABLE rate_events (
        key TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL
    )""",
    "CREATE INDEX rate_events_key ON rate_events (key, at_ms)",
    "CREATE INDEX rate_events_expiry ON rate_events (expires_ms)",
]

MIGRATIONS: list[list[Any]] = [
    V1_CORE, V2_QUEUES, V3_SENT_VIA, V4_CLAIMED_BY, V5_DIALOGUE_TURNS, V6_OUTBOX_ATTEMPTS, V7_WEB_LINKS,
    V8_CONSOLE, V9_LINE_TOTAL, V10_SHOPS, V11_ORDER_NUMBERS, V12_LEASES, V13_RATE_EVENTS,
]
# Versions whose migration rebuilds a table other tables refer to: foreign keys are off while it runs
# (they cannot be switched inside a transaction), and checked before it commits.
REBUILDS = frozenset({10})
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer voicebot; refusing to touch it."""


def schema_version(db: sqlite_utils.Database | PgDatabase) -> int:
    if isinstance(db, PgDatabase):
        if db.execute("SELECT to_regclass('voicebot_schema')").fetchone()[0] is None:
            return 0
        return db.execute("SELECT version FROM voicebot_schema").fetchone()[0]
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def statements(step: list[Step], engine: str) -> list[str]:
    """One migration's statements for ``engine`` ("sqlite" or "postgresql")."""
    out: list[str] = []
    for item in step:
        out.extend([item] if isinstance(item, str) else item.get(engine, []))
    return out


def migrate(db: sqlite_utils.Database | PgDatabase, target: int = SCHEMA_VERSION) -> int:
    """Apply every migration above the database's version up to ``target``; return the new version."""
    if isinstance(db, PgDatabase):
        return _migrate_postgres(db, target)
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema version {current} is newer than this voicebot ({SCHEMA_VERSION})"
        )
    while current < target:
        rebuild = current + 1 in REBUILDS
        if rebuild:
            db.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            with write_tx(db):
                current = schema_version(db)  # another process may have migrated meanwhile
                if current >= target:
                    break
                for statement in statements(MIGRATIONS[current], "sqlite"):
                    db.conn.execute(statement)
                if rebuild and db.conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise RuntimeError(f"migration to version {current + 1} broke a foreign key")
                current += 1
                db.conn.execute(f"PRAGMA user_version = {current}")
        finally:
            if rebuild:
                db.conn.execute("PRAGMA foreign_keys = ON")
    return current


def _migrate_postgres(db: PgDatabase, target: int) -> int:
    """PostgreSQL: under a session advisory lock (several processes starting at once wait for the first),
    the baseline on an empty database, then each later migration in its own transaction."""
    if target < BASELINE_VERSION and target != 0:
        raise ValueError(f"PostgreSQL starts at schema version {BASELINE_VERSION}, cannot stop at {target}")
    db.execute("SELECT pg_advisory_lock(?)", (MIGRATE_LOCK_KEY,))
    try:
        current = schema_version(db)
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"database schema version {current} is newer than this voicebot ({SCHEMA_VERSION})")
        if current == 0 and target > 0:
            with db.atomic():
                for statement in BASELINE:
                    db.execute(statement)
                db.execute("CREATE TABLE voicebot_schema (version BIGINT NOT NULL)")
                db.execute("INSERT INTO voicebot_schema (version) VALUES (?)", (BASELINE_VERSION,))
            current = BASELINE_VERSION
        while current < target:
            with db.atomic():
                for statement in statements(MIGRATIONS[current], "postgresql"):
                    db.execute(statement)
                current += 1
                db.execute("UPDATE voicebot_schema SET version = ?", (current,))
        return current
    finally:
        db.forget_schema()
        db.execute("SELECT pg_advisory_unlock(?)", (MIGRATE_LOCK_KEY,))


__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SchemaTooNew", "migrate", "schema_version", "statements"]
