"""Where articles live: a file, a folder's files (sorted), or the members of a .zip or .tar.gz, one at a time."""

from __future__ import annotations

import os
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

from framelens.model.errors import FramelensError

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
FORMATS = "JSON Lines (.jsonl), CSV (.csv), Parquet (.parquet), a folder of .txt/.md files, or a .zip / .tar.gz"
Opener = Callable[[], AbstractContextManager[IO[bytes]]]


def kind_of(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in (*TABLE_SUFFIXES, *TEXT_SUFFIXES, *ARCHIVE_SUFFIXES) if lower.endswith(s)), None)


def members(path: Path) -> Iterator[tuple[str, Opener]]:
    """(name, opener) of each readable file: the file itself, a folder's files (sorted) or an archive's members."""
    if path.is_dir():
        yield from _folder(path)
        return
    if not path.is_file():
        raise FramelensError(f"{path} does not exist: give a file or folder of articles ({FORMATS})")
    kind = kind_of(path.name)
    if kind in (".zip",):
        yield from _zip(path)
    elif kind in (".tar.gz", ".tgz", ".tar"):
        yield from _tar(path)
    elif kind is not None:
        yield path.name, lambda: path.open("rb")
    else:
        raise FramelensError(f"{path.name}: unknown archive type; use {FORMATS}")


def _wanted(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    hidden = any(p.startswith(".") or p == "__MACOSX" for p in parts)
    return not hidden and kind_of(name) in (*TABLE_SUFFIXES, *TEXT_SUFFIXES)


def _folder(root: Path) -> Iterator[tuple[str, Opener]]:
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for file in sorted(files):
            full = Path(directory) / file
            name = full.relative_to(root).as_posix()
            if _wanted(name):
                yield name, (lambda p=full: p.open("rb"))  # type: ignore[misc]


def _zip(path: Path) -> Iterator[tuple[str, Opener]]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FramelensError(f"{path.name} is not a readable zip file ({exc}): check the upload") from exc
    with archive:
        for info in archive.infolist():
            if not info.is_dir() and _wanted(info.filename):
                yield info.filename, (lambda i=info: archive.open(i))  # type: ignore[misc]


def _tar(path: Path) -> Iterator[tuple[str, Opener]]:
    try:
        archive = tarfile.open(path, "r|*")  # noqa: SIM115  # streaming: members one after another, nothing kept
    except tarfile.TarError as exc:
        raise FramelensError(f"{path.name} is not a readable tar archive ({exc}): check the upload") from exc
    with archive:
        for member in archive:
            if member.isfile() and _wanted(member.name):
                stream = archive.extractfile(member)
                if stream is not None:
                    yield member.name, (lambda s=stream: _Borrowed(s))  # type: ignore[misc]


class _Borrowed(AbstractContextManager[IO[bytes]]):
    """A tar member's stream, handed out without closing the archive underneath it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def __enter__(self) -> IO[bytes]:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        return None
