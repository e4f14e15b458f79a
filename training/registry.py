"""Model versions on disk: each written to a staging folder and renamed into place; one is active."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError


class Registry:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.staging_dir = self.root / ".staging"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if (p / "metadata.json").is_file())

    def path(self, version: str) -> Path:
        candidate = self.versions_dir / version
        if "/" in version or version.startswith(".") or not (candidate / "metadata.json").is_file():
            raise FramelensError(f"no model version {version!r}; known versions: {self.versions() or 'none'}")
        return candidate

    def metadata(self, version: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path(version) / "metadata.json").read_text(encoding="utf-8"))
        return data

    def active(self) -> str | None:
        pointer = self.root / "active.json"
        if not pointer.is_file():
            return None
        version = json.loads(pointer.read_text(encoding="utf-8")).get("version")
        return version if isinstance(version, str) and version in self.versions() else None

    def activate(self, version: str) -> None:
        self.path(version)
        with self._lock():
            _atomic_write(self.root / "active.json", {"version": version, "activated": time.time()})

    @contextlib.contextmanager
    def stage(self) -> Iterator[Path]:
        """A private folder to write a new version into; nothing is visible until `commit`."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.clean_stale()
        folder = self.staging_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(self, staged: Path, version: str) -> Path:
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        target = self.versions_dir / version
        with self._lock():
            if target.exists():
                raise FramelensError(f"model version {version} already exists")
            os.replace(staged, target)  # one rename: the version appears whole or not at all
        return target

    def clean_stale(self) -> None:
        """Remove staging folders whose writer process has died (a crash or kill -9 mid-training)."""
        if not self.staging_dir.is_dir():
            return
        for folder in self.staging_dir.iterdir():
            pid = folder.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def new_version_id() -> str:
        return time.strftime("v%Y%m%d-%H%M%S", time.gmtime()) + f"-{uuid.uuid4().hex[:4]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _atomic_write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
