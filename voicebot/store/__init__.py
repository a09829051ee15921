"""Storage: the SQLite file (open, migrate, transactions) and the tables other areas hand off through.

All SQL of the project lives under ``voicebot.store`` and ``voicebot.shop``.
"""

from voicebot.store.db import StoreBusy, open_db, write_tx
from voicebot.store.migrations import SCHEMA_VERSION, migrate, schema_version

__all__ = ["SCHEMA_VERSION", "StoreBusy", "migrate", "open_db", "schema_version", "write_tx"]
