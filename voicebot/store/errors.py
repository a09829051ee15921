"""Database errors as callers catch them, whichever engine is underneath."""

from __future__ import annotations

import sqlite3

import psycopg

# A UNIQUE, CHECK, NOT NULL or foreign key constraint refused the statement.
IntegrityError = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)
# Anything the database refused or could not do (including IntegrityError).
DatabaseError = (sqlite3.DatabaseError, psycopg.Error)

__all__ = ["DatabaseError", "IntegrityError"]
