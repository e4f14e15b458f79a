"""The work folder of an unfinished run (OUT.partial/): part files that only grow by whole chunks, and a ledger.

After each chunk the parts are fsynced, then `ledger.json` is replaced atomically with their new sizes and the
count of archive items consumed. A crash at any moment leaves either the old or the new ledger; on resume each
part is cut back to the ledger's size, so a half-written row can never be counted as done."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from framelens.model.errors import FramelensError

PARTS = ("articles", "windows", "errors")


@dataclass
class Counts:
    consumed: int = 0  # archive items done with (scored or sent to the errors file)
    scored: int = 0
    errors: int = 0
    windows: int = 0  # windows (passages) read by the model
    total: int | None = None  # items in the archive, when counted

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counts:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


class Workspace:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.dir = out.with_name(out.name + ".partial")
        self.ledger_path = self.dir / "ledger.json"
        self._lock: IO[str] | None = None
        self._parts: dict[str, IO[bytes]] = {}
        self.complete = False

    def part(self, name: str) -> Path:
        return self.dir / f"{name}.jsonl"

    @property
    def exists(self) -> bool:
        return self.ledger_path.is_file()

    def read_plan(self) -> dict[str, Any] | None:
        if not self.exists:
            return None
        plan: dict[str, Any] = json.loads(self.ledger_path.read_text(encoding="utf-8"))["plan"]
        return plan

    def open(self, plan: dict[str, Any]) -> Counts:
        """Start a run, or resume the one recorded here when its plan is the same."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        if not self.exists:
            for name in PARTS:
                self.part(name).write_bytes(b"")
            self._sizes = dict.fromkeys(PARTS, 0)
            counts = Counts()
            self._write_ledger(plan, counts)
        else:
            ledger = json.loads(self.ledger_path.read_text(encoding="utf-8"))
            changed = sorted(k for k in set(plan) | set(ledger["plan"]) if plan.get(k) != ledger["plan"].get(k))
            if changed:
                self.close()
                was = {k: ledger["plan"].get(k) for k in changed}
                raise FramelensError(
                    f"{self.dir} holds an unfinished run with other settings ({was}): re-run with the same "
                    "archive and options to continue it, or pass --overwrite to start over"
                )
            self._sizes = {name: int(ledger["sizes"][name]) for name in PARTS}
            self.complete = bool(ledger.get("complete"))
            counts = Counts.from_dict(ledger["counts"])
            for name in PARTS:  # drop whatever a killed run wrote after its last ledger
                path = self.part(name)
                if not path.is_file() or path.stat().st_size < self._sizes[name]:
                    self.close()
                    raise FramelensError(f"{self.dir} is damaged ({path.name} is short): start over with --overwrite")
                with path.open("r+b") as handle:
                    handle.truncate(self._sizes[name])
        self._plan = plan
        self._parts = {name: self.part(name).open("ab") for name in PARTS}
        return counts

    def append(self, lines: dict[str, list[bytes]], counts: Counts) -> None:
        """Append one chunk's rows to the parts, make them durable, then record them in the ledger."""
        for name, handle in self._parts.items():
            rows = lines.get(name)
            if rows:
                handle.write(b"".join(rows))
            handle.flush()
            os.fsync(handle.fileno())
            self._sizes[name] = handle.tell()
        self._write_ledger(self._plan, counts)

    def mark_complete(self, counts: Counts) -> None:
        self.complete = True
        self._write_ledger(self._plan, counts)

    def _write_ledger(self, plan: dict[str, Any], counts: Counts) -> None:
        data = {"plan": plan, "counts": asdict(counts), "sizes": self._sizes, "complete": self.complete}
        tmp = self.dir / "ledger.json.tmp"
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.ledger_path)
        _fsync_dir(self.dir)

    def _take_lock(self) -> None:
        self._lock = (self.dir / "lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock.close()
            self._lock = None
            raise FramelensError(
                f"another `framelens score` is writing {self.out} right now: wait for it, or choose another -o"
            ) from exc

    def close(self) -> None:
        for handle in self._parts.values():
            handle.close()
        self._parts = {}
        if self._lock is not None:
            self._lock.close()  # closing releases the flock
            self._lock = None

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
