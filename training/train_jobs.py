"""Retrain jobs in SQLite (WAL) under FRAMELENS_HOME: one at a time, with state, phase, result and log file."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError
from framelens.training.sqlite import wal_connection

JOBS_FILE = "train-jobs.db"
LOG_DIR = "train-logs"
LIVE = ("queued", "running")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS train_jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    phase TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT,
    error TEXT,
    pid INTEGER,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
"""
_STEP = re.compile(r"(\d+)/(\d+) \[")  # a progress bar's "done/total [elapsed…"
_TRAINING_STEP = re.compile(r"fine-tuning:[^\n]*?(\d+)/(\d+) \[")
# Share of the whole job each phase starts at; training moves from 0.05 to 0.9 with its steps.
_PHASES = {"queued": 0.0, "loading": 0.02, "training": 0.05, "gate": 0.9, "exporting": 0.93, "promoting": 0.97}


class JobBusy(FramelensError):
    """Another retrain is queued or running."""


@dataclass(frozen=True)
class Job:
    id: str
    state: str  # queued, running, succeeded, failed
    phase: str
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    pid: int | None
    created: float
    started: float | None
    finished: float | None

    @property
    def live(self) -> bool:
        return self.state in LIVE


class TrainJobs:
    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.path = self.home / JOBS_FILE

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return wal_connection(self.path, _SCHEMA)

    def log_path(self, job_id: str) -> Path:
        return self.home / LOG_DIR / f"{job_id}.log"

    def create(self, request: dict[str, Any]) -> Job:
        """A new queued job; JobBusy when one is already queued or running (checked in the same transaction)."""
        job_id = time.strftime("t%Y%m%d-%H%M%S", time.gmtime()) + f"-{uuid.uuid4().hex[:6]}"
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            busy = conn.execute("SELECT id FROM train_jobs WHERE state IN (?, ?)", LIVE).fetchone()
            if busy:
                conn.execute("ROLLBACK")
                raise JobBusy(f"retrain job {busy[0]} is still running: wait for it (GET /v1/train/{busy[0]})")
            conn.execute(
                "INSERT INTO train_jobs (id, state, phase, request, created) VALUES (?, 'queued', 'queued', ?, ?)",
                (job_id, json.dumps(request), time.time()),
            )
            conn.execute("COMMIT")
        self.log_path(job_id).parent.mkdir(parents=True, exist_ok=True)
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        row = None
        if self.path.is_file():
            with self._connect() as conn:
                row = conn.execute(f"SELECT {_COLUMNS} FROM train_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise FramelensError(f"no retrain job {job_id!r}: see GET /v1/train for the jobs")
        return _job(row)

    def recent(self, limit: int = 20) -> list[Job]:
        if not self.path.is_file():  # no job ever: nothing to list, and no file created just to say so
            return []
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM train_jobs ORDER BY created DESC LIMIT ?", (limit,))
            return [_job(r) for r in rows.fetchall()]

    def started(self, job_id: str, pid: int) -> None:
        self._update(job_id, state="running", phase="loading", pid=pid, started=time.time())

    def set_phase(self, job_id: str, phase: str) -> None:
        self._update(job_id, phase=phase)

    def succeed(self, job_id: str, result: dict[str, Any]) -> None:
        self._update(job_id, state="succeeded", phase="done", result=json.dumps(result), finished=time.time())

    def fail(self, job_id: str, error: str) -> None:
        """Mark a live job failed (a finished job keeps its outcome)."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE train_jobs SET state = 'failed', phase = 'done', error = ?, finished = ? "
                "WHERE id = ? AND state IN (?, ?)",
                (error, time.time(), job_id, *LIVE),
            )

    def fail_orphans(self, alive: Callable[[Job], bool]) -> list[str]:
        """Jobs left queued or running by a process that died (a kill -9 of the server): marked failed."""
        failed = []
        for job in self.recent(limit=1000):
            if job.live and not alive(job):
                self.fail(job.id, "the server or training process stopped before the job finished; no version was kept")
                failed.append(job.id)
        return failed

    def _update(self, job_id: str, **values: Any) -> None:
        columns = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as conn:
            conn.execute(f"UPDATE train_jobs SET {columns} WHERE id = ?", (*values.values(), job_id))

    def progress(self, job: Job, tail: str) -> float:
        if not job.live:
            return 1.0
        share = _PHASES.get(job.phase, 0.0)
        if job.phase == "training":
            steps = _TRAINING_STEP.findall(tail)
            if steps:
                done, total = (int(x) for x in steps[-1])
                share += 0.85 * done / max(total, 1)
        return round(share, 3)

    def log_tail(self, job_id: str, lines: int = 30, max_bytes: int = 32_000) -> str:
        """The last lines of the job's log; progress-bar redraws are collapsed to the newest one."""
        path = self.log_path(job_id)
        if not path.is_file():
            return ""
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - max_bytes))
            text = handle.read().decode("utf-8", errors="replace")
        kept: list[str] = []
        for line in text.replace("\r", "\n").splitlines():
            if not line.strip():
                continue
            same_bar = kept and line.split(":", 1)[0] == kept[-1].split(":", 1)[0]
            if same_bar and _STEP.search(line) and _STEP.search(kept[-1]):
                kept[-1] = line
            else:
                kept.append(line)
        return "\n".join(kept[-lines:])


def process_alive(pid: int | None, marker: str) -> bool:
    """Is `pid` running and is it the process we started (its command line names `marker`)?"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # a reused pid belongs to another program
        try:
            return marker.encode() in cmdline.read_bytes()
        except OSError:
            return False
    return True


_COLUMNS = "id, state, phase, request, result, error, pid, created, started, finished"


def _job(row: tuple[Any, ...]) -> Job:
    return Job(
        id=row[0],
        state=row[1],
        phase=row[2],
        request=json.loads(row[3]),
        result=json.loads(row[4]) if row[4] else None,
        error=row[5],
        pid=row[6],
        created=row[7],
        started=row[8],
        finished=row[9],
    )
