"""Scoring jobs in SQLite (WAL mode): what to score, its state and progress. Survives a server restart."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelens.serve.scoring.ledger import Counts

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
UNFINISHED = (QUEUED, RUNNING)

_SCHEMA = """CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, archive TEXT NOT NULL, name TEXT NOT NULL, options TEXT NOT NULL,
    model_version TEXT NOT NULL, message TEXT, created REAL NOT NULL, updated REAL NOT NULL,
    total INTEGER, consumed INTEGER NOT NULL DEFAULT 0, scored INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0, windows INTEGER NOT NULL DEFAULT 0)"""


@dataclass(frozen=True)
class Job:
    id: str
    state: str
    archive: str  # the file or folder scored (an upload is kept in the job's folder)
    name: str  # what the caller called it: the upload's file name, or the path under the jobs root
    options: dict[str, Any]
    model_version: str
    message: str | None
    created: float
    updated: float
    total: int | None
    consumed: int
    scored: int
    errors: int
    windows: int


class JobStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One short-lived connection per operation: safe from any thread, and WAL lets reads run beside writes."""
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def create(self, archive: Path, name: str, options: dict[str, Any], model_version: str, job_id: str) -> Job:
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (id, state, archive, name, options, model_version, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, QUEUED, str(archive), name, json.dumps(options), model_version, now, now),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def get(self, job_id: str) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def next_queued(self) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY created LIMIT 1", (QUEUED,)).fetchone()
        return _job(row) if row else None

    def move(self, job_id: str, state: str, message: str | None = None, only_from: tuple[str, ...] = ()) -> bool:
        """Set the state (only if it is now one of `only_from`, when given); True if it changed."""
        sql = "UPDATE jobs SET state = ?, message = ?, updated = ? WHERE id = ?"
        args: list[Any] = [state, message, time.time(), job_id]
        if only_from:
            sql += f" AND state IN ({','.join('?' * len(only_from))})"
            args += list(only_from)
        with self._connect() as db:
            return db.execute(sql, args).rowcount > 0

    def progress(self, job_id: str, counts: Counts) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET total = ?, consumed = ?, scored = ?, errors = ?, windows = ?, updated = ?"
                " WHERE id = ?",
                (counts.total, counts.consumed, counts.scored, counts.errors, counts.windows, time.time(), job_id),
            )

    def requeue_unfinished(self) -> int:
        """After a restart: jobs that were running go back to the queue (they resume from their ledger)."""
        with self._connect() as db:
            return db.execute(
                "UPDATE jobs SET state = ?, message = ?, updated = ? WHERE state = ?",
                (QUEUED, "resumed after a server restart", time.time(), RUNNING),
            ).rowcount


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["options"] = json.loads(data["options"])
    return Job(**data)
