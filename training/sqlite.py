"""SQLite in WAL mode for the stores that several processes share (labelled examples, retrain jobs)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def wal_connection(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (transactions are explicit) to `path`, its folder and `schema` created if
    missing; writers wait up to 30 s for each other instead of failing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(schema)
        yield conn
    finally:
        conn.close()
