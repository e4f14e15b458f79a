"""Where articles live: a file, a folder's files (sorted), or the members of a .zip or .tar.gz, one at a time,
under the caps of `ArchiveLimits`."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, cast

from framelens.model.errors import FramelensError
from framelens.serve.scoring.limits import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    Counted,
    MemberRefused,
    RatioGuard,
    Readable,
    capped,
)

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
FORMATS = "JSON Lines (.jsonl), CSV (.csv), Parquet (.parquet), a folder of .txt/.md files, or a .zip / .tar.gz"
Opener = Callable[[], AbstractContextManager[IO[bytes]]]
Member = tuple[str, Opener]
# What a damaged archive raises part-way through a member (gzip.BadGzipFile is an OSError).
READ_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError)


def kind_of(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in (*TABLE_SUFFIXES, *TEXT_SUFFIXES, *ARCHIVE_SUFFIXES) if lower.endswith(s)), None)


def members(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS, within: Path | None = None) -> Iterator[Member]:
    """(name, opener) of each readable file: the file itself, a folder's files (sorted) or an archive's members.
    An opener, or a read from what it opened, may raise `MemberRefused` (the reason goes into an error row).
    `within`: a folder's links may not lead out of this folder (the jobs root)."""
    if path.is_dir():
        yield from _folder(path, within)
        return
    if not path.is_file():
        raise FramelensError(f"{path} does not exist: give a file or folder of articles ({FORMATS})")
    kind = kind_of(path.name)
    if kind in (".zip",):
        yield from _zip(path, limits)
    elif kind in (".tar.gz", ".tgz", ".tar"):
        yield from _tar(path, limits)
    elif kind is not None:
        yield path.name, lambda: path.open("rb")
    else:
        raise FramelensError(f"{path.name}: unknown archive type; use {FORMATS}")


def _wanted(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    hidden = any(p.startswith(".") or p == "__MACOSX" for p in parts)
    return not hidden and kind_of(name) in (*TABLE_SUFFIXES, *TEXT_SUFFIXES)


def _refused(reason: str) -> Opener:
    def refuse() -> AbstractContextManager[IO[bytes]]:
        raise MemberRefused(reason)

    return refuse


def _folder(root: Path, within: Path | None) -> Iterator[Member]:
    for directory, subdirs, files in os.walk(root):  # links to folders are not followed
        subdirs.sort()
        for file in sorted(files):
            full = Path(directory) / file
            name = full.relative_to(root).as_posix()
            if _wanted(name):
                yield name, (lambda p=full: _open_file(p, within))  # type: ignore[misc]


def _open_file(path: Path, within: Path | None) -> IO[bytes]:
    try:
        if within is None:
            return path.open("rb")
        target = path.resolve(strict=True)
        if not target.is_relative_to(within):
            raise MemberRefused("a link to a file outside the jobs root (FRAMELENS_JOBS_ROOT): not read")
        # O_NOFOLLOW: a link swapped in since it was resolved is refused, not followed.
        return open(target, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW))
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        raise MemberRefused(f"cannot be read ({getattr(exc, 'strerror', None) or exc}): not read") from exc


def _zip(path: Path, limits: ArchiveLimits) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FramelensError(f"{path.name} is not a readable zip file ({exc}): check the upload") from exc
    with archive:
        for info in archive.infolist():
            if not info.is_dir() and _wanted(info.filename):
                yield info.filename, (lambda i=info: _zip_member(archive, i, limits))  # type: ignore[misc]


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits) -> IO[bytes]:
    """The member's stream, refused up front when its declared sizes break a cap, and cut off if they lie."""
    if info.file_size > limits.member_bytes:
        raise MemberRefused(limits.too_large(info.file_size))
    by_ratio = limits.ratio_cap(info.compress_size)
    if info.file_size > by_ratio:
        raise MemberRefused(limits.too_compressed())
    try:
        stream = archive.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:  # damaged, encrypted, exotic
        raise MemberRefused(f"cannot be read ({exc}): not read") from exc
    if limits.member_bytes <= by_ratio:
        return capped(stream, limits.member_bytes, limits.too_large(limits.member_bytes + 1))
    return capped(stream, by_ratio, limits.too_compressed())


def _decompressed(head: bytes, source: Counted) -> Readable:
    """`source` read through the decompressor its first bytes name (gzip, bzip2, xz), or as it is."""
    raw = cast(IO[bytes], source)  # the decompressors only call read()
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return source


def _tar(path: Path, limits: ArchiveLimits) -> Iterator[Member]:
    """Members one after another (streaming), decompressed under the ratio cap: past it, the rest is refused."""
    handle = path.open("rb")  # closed with the archive below
    head = handle.read(6)
    handle.seek(0)
    source = Counted(handle)
    guard = RatioGuard(_decompressed(head, source), source, limits)
    try:
        archive = tarfile.open(fileobj=io.BufferedReader(guard), mode="r|")  # noqa: SIM115
    except (MemberRefused, *READ_ERRORS) as exc:
        handle.close()
        raise FramelensError(f"{path.name} is not a readable tar archive ({exc}): check the upload") from exc
    with handle, archive:
        while True:
            tripped = guard.tripped  # already reported, in the error row of the member being read
            try:
                member = archive.next()
            except MemberRefused as exc:
                if not tripped:
                    yield path.name, _refused(exc.reason)
                return
            except READ_ERRORS as exc:
                yield path.name, _refused(f"the rest of the archive cannot be read ({exc})")
                return
            if member is None:
                return
            archive.members = []  # type: ignore[attr-defined]  # streaming: keep no member list (a tar may hold millions)
            if not member.isfile() or not _wanted(member.name):
                continue
            if member.size > limits.member_bytes:
                yield member.name, _refused(limits.too_large(member.size))
                continue
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
