"""The labelled-data store: validated examples in SQLite (WAL) under FRAMELENS_HOME; an upload is all or nothing."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelens.model.artifact import NetworkSpec
from framelens.model.errors import DataError
from framelens.model.scheme import Scheme
from framelens.training.examples import TOO_DEEP, Example, read_rows, validate_rows
from framelens.training.provenance import verified_files
from framelens.training.registry import Registry
from framelens.training.sqlite import wal_connection

STORE_FILE = "examples.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS examples (
    id TEXT PRIMARY KEY,
    row TEXT NOT NULL,
    scheme TEXT NOT NULL,
    upload TEXT NOT NULL,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    scheme TEXT NOT NULL,
    rows INTEGER NOT NULL,
    added REAL NOT NULL
);
"""


@dataclass(frozen=True)
class AddResult:
    upload: str
    added: int  # ids new to the store
    replaced: int  # ids already stored: their labels were replaced (a correction)
    total: int  # examples in the store afterwards

    def to_dict(self) -> dict[str, Any]:
        return {"upload": self.upload, "added": self.added, "replaced": self.replaced, "total": self.total}


def parse_upload(content: str, suffix: str, scheme: Scheme, source: str) -> list[tuple[int, Example]]:
    """JSONL (`.jsonl`, `.json` lines) or CSV (`.csv`) text -> (line, example); DataError lists every problem.

    A `.json` upload holding one JSON array is read as that list of rows (line = position in the list, from 1),
    one holding a single object as that one row."""
    if suffix == ".json":
        stripped = content.strip()
        try:
            data = json.loads(stripped)
        except RecursionError:
            raise DataError(source, [f"{source}: {TOO_DEEP}"]) from None
        except json.JSONDecodeError as exc:
            if stripped.startswith("["):
                problem = f"{source}:{exc.lineno}: broken JSON at column {exc.colno}: {exc.msg}"
                raise DataError(source, [problem]) from None
            data = None  # JSON Lines in a .json file
        if isinstance(data, list):
            return check_rows(list(enumerate(data, 1)), scheme, source)
        if isinstance(data, dict):
            return check_rows([(1, data)], scheme, source)
    return check_rows(read_rows(content, ".csv" if suffix == ".csv" else ".jsonl", source), scheme, source)


def check_rows(rows: list[tuple[int, Any]], scheme: Scheme, source: str) -> list[tuple[int, Example]]:
    """The shared validation (training.examples), keeping each example's line for later messages."""
    examples = validate_rows(rows, scheme, source)
    # validate_rows raised unless every row became an example, so rows and examples pair up in order.
    return [(line, ex) for (line, _), ex in zip(rows, examples, strict=True)]


def reject_reserved_ids(items: list[tuple[int, Example]], reserved: set[str], source: str, why: str) -> None:
    """Ids the store must not take (the seeds' own ids: seeds and their frozen test split are read-only)."""
    problems = [
        f"{source}:{line}: field 'id': {ex.id!r} is {why}; give this passage another id"
        for line, ex in items
        if ex.id in reserved
    ]
    if problems:
        raise DataError(source, problems)


def check_against_active(items: list[tuple[int, Example]], registry: Registry, source: str) -> None:
    """What the active version forbids: the seeds' own ids (the seeds and their frozen test split are read-only),
    and stance targets a heads-mode model does not read (its retrain could not learn them)."""
    active = registry.active()
    if active is None:
        return
    reject_reserved_ids(items, seed_ids(recorded_files(registry.metadata(active))), source, "the id of a seed passage")
    network = registry.path(active) / "network.json"
    fixed = NetworkSpec.from_dict(json.loads(network.read_text(encoding="utf-8"))).stance_targets
    problems = [
        f"{source}:{line}: field 'stance': target {target!r} is not one the active model reads "
        f"({', '.join(fixed)}); label those targets only"
        for line, ex in items
        for target in ex.stance
        if fixed and target not in fixed
    ]
    if problems:
        raise DataError(source, problems)


def recorded_files(metadata: dict[str, Any]) -> list[str]:
    """The labelled files a version was trained on (the seeds a retrain starts from), each checked to be there and
    unchanged: a missing or changed one is an error naming it, never a silent retrain without the seeds."""
    return verified_files(metadata)


def seed_ids(files: list[str]) -> set[str]:
    """Every id in the seed files (a row without one has the hash of its text, as in training.examples)."""
    ids: set[str] = set()
    for file in files:
        path = Path(file)
        ids |= _file_ids(str(path), path.stat().st_mtime_ns)
    return ids


@functools.lru_cache(maxsize=8)
def _file_ids(path: str, mtime_ns: int) -> frozenset[str]:
    content = Path(path).read_text(encoding="utf-8-sig")
    ids = set()
    for _, row in read_rows(content, Path(path).suffix.lower(), path):
        if isinstance(row, dict) and isinstance(row.get("text"), str):
            raw = row.get("id")
            ids.add(str(raw) if raw not in (None, "") else hashlib.sha1(row["text"].encode()).hexdigest()[:16])
    return frozenset(ids)


class ExampleStore:
    def __init__(self, home: str | Path) -> None:
        self.path = Path(home) / STORE_FILE

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return wal_connection(self.path, _SCHEMA)

    def add(self, items: Iterable[tuple[int, Example]], scheme: Scheme, source: str) -> AddResult:
        """Store validated examples in one transaction: every row or none. A known id gets the new labels."""
        examples = [ex for _, ex in items]
        upload = uuid.uuid4().hex[:12]
        now = time.time()
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                known = _existing(conn, [ex.id for ex in examples])
                conn.executemany(
                    "INSERT INTO examples (id, row, scheme, upload, added) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET row=excluded.row, scheme=excluded.scheme, "
                    "upload=excluded.upload, added=excluded.added",
                    [(ex.id, _dump(ex), scheme.name, upload, now) for ex in examples],
                )
                conn.execute(
                    "INSERT INTO uploads (id, source, scheme, rows, added) VALUES (?, ?, ?, ?, ?)",
                    (upload, source, scheme.name, len(examples), now),
                )
                total = int(conn.execute("SELECT COUNT(*) FROM examples").fetchone()[0])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return AddResult(upload, len(examples) - len(known), len(known), total)

    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """(row number, stored JSON object) in the order they were first added."""
        if not self.path.is_file():
            return []
        with self._connect() as conn:
            found = conn.execute("SELECT rowid, row FROM examples ORDER BY rowid").fetchall()
        return [(int(rowid), json.loads(row)) for rowid, row in found]

    def examples(self, scheme: Scheme) -> list[Example]:
        """Every stored example, checked again against `scheme` (the served model may have changed since)."""
        rows = self.rows()
        return validate_rows(rows, scheme, str(self.path)) if rows else []

    def export_jsonl(self) -> Iterator[str]:
        for _, row in self.rows():
            yield json.dumps(row, ensure_ascii=False) + "\n"

    def count(self) -> int:
        return len(self.rows())

    def stats(self, scheme: Scheme | None = None) -> dict[str, Any]:
        """Counts per frame, per stance target and label, and per split: where the labelled data is thin.
        With `scheme`, every frame of it is listed, a frame nobody labelled yet with 0."""
        frames: Counter[str] = Counter()
        stance: dict[str, Counter[str]] = defaultdict(Counter)
        splits: Counter[str] = Counter()
        rows = self.rows()
        no_frames = unlabelled = 0
        for _, row in rows:
            if "frames" not in row:
                unlabelled += 1
            elif not row["frames"]:
                no_frames += 1
            frames.update(row.get("frames") or [])
            for target, label in (row.get("stance") or {}).items():
                stance[target][label] += 1
            splits[row.get("split") or "by hash"] += 1
        names = scheme.frame_names if scheme is not None else sorted(frames)
        return {
            "total": len(rows),
            "frames": {name: frames.get(name, 0) for name in names},
            "no_frame": no_frames,
            "frames_unlabelled": unlabelled,
            "stance": {t: dict(sorted(c.items())) for t, c in sorted(stance.items())},
            "splits": dict(sorted(splits.items())),
        }


def _existing(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        known |= {r[0] for r in conn.execute(f"SELECT id FROM examples WHERE id IN ({marks})", chunk)}
    return known


def _dump(example: Example) -> str:
    return json.dumps(example.to_dict(), ensure_ascii=False, sort_keys=False)
