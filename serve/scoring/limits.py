"""Caps on reading an archive (bytes per member, compression ratio, line length), and the streams that keep them.

A member or line past a cap raises `MemberRefused`; the record readers turn it into an error row and go on."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from framelens.serve.settings import Settings

RATIO_FLOOR = 1 << 16  # bytes a member may always decompress to, whatever its compressed size (64 KiB)


@dataclass(frozen=True)
class ArchiveLimits:
    member_bytes: int = 256_000_000  # decompressed bytes of one .zip / .tar member (FRAMELENS_MAX_MEMBER_BYTES)
    compression_ratio: float = 200.0  # decompressed / compressed bytes (FRAMELENS_MAX_COMPRESSION_RATIO)
    line_bytes: int = 4_000_000  # one JSONL line or CSV record (FRAMELENS_MAX_LINE_BYTES)

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveLimits:
        return cls(settings.max_member_bytes, settings.max_compression_ratio, settings.max_line_bytes)

    def too_large(self, size: int) -> str:
        return (
            f"{size:,} bytes or more once decompressed, over the limit of {self.member_bytes:,} "
            "(FRAMELENS_MAX_MEMBER_BYTES): split the file, or raise the limit"
        )

    def too_compressed(self, rest: bool = False) -> str:
        what = "this member and the rest of the archive were not read" if rest else "not read"
        return (
            f"decompresses to over {self.compression_ratio:g}x its compressed size "
            f"(FRAMELENS_MAX_COMPRESSION_RATIO), like a zip bomb: {what}; check the archive, or raise the limit"
        )

    def line_too_long(self) -> str:
        return (
            f"longer than {self.line_bytes:,} bytes (FRAMELENS_MAX_LINE_BYTES): split the article, or raise the limit"
        )

    def ratio_cap(self, compressed: int) -> int:
        return int(self.compression_ratio * compressed) + RATIO_FLOOR


DEFAULT_LIMITS = ArchiveLimits()


class MemberRefused(Exception):
    """A member (or the rest of an archive) that is not read; `reason` goes into its error row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Capped(io.RawIOBase):
    """Reads `inner` until `cap` bytes have come out, then refuses with `reason`."""

    def __init__(self, inner: IO[bytes], cap: int, reason: str) -> None:
        self.inner, self.cap, self.reason, self.seen = inner, cap, reason, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.seen += len(data)
        if self.seen > self.cap:
            raise MemberRefused(self.reason)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


def capped(inner: IO[bytes], cap: int, reason: str) -> IO[bytes]:
    """`inner` as a buffered stream (readline with a size, peek) that refuses past `cap` bytes."""
    return io.BufferedReader(_Capped(inner, cap, reason))


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Counted:
    """A file read through, counting the (compressed) bytes taken from it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner, self.seen = inner, 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.seen += len(data)
        return data


class RatioGuard(io.RawIOBase):
    """A decompressed stream that refuses once it has given out more than the ratio cap of what `source` read."""

    def __init__(self, decompressed: Readable, source: Counted, limits: ArchiveLimits) -> None:
        self.decompressed, self.source, self.limits, self.out = decompressed, source, limits, 0
        self.tripped = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.tripped:
            raise MemberRefused(self.limits.too_compressed(rest=True))
        data = self.decompressed.read(len(buffer))
        self.out += len(data)
        if self.out > self.limits.ratio_cap(self.source.seen):
            self.tripped = True
            raise MemberRefused(self.limits.too_compressed(rest=True))
        buffer[: len(data)] = data
        return len(data)


def read_line(stream: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """The next line (b"" at the end) and whether it was longer than `limit` bytes; an overlong line is read
    through to its end in pieces (never held whole) and comes back empty."""
    line = stream.readline(limit + 1)
    if len(line) <= limit or line.endswith(b"\n"):
        return line, False
    while True:
        piece = stream.readline(1 << 16)
        if not piece or piece.endswith(b"\n"):
            return b"", True


class RecordTooLong(Exception):
    """A CSV record over the line cap; `line` is where it began."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class CsvLines:
    """The physical lines csv.reader reads, with a cap on the characters of one record: an overlong record is read
    through to its end (where its quotes balance) in pieces, never held whole, and raised as `RecordTooLong`."""

    def __init__(self, text: IO[str], limit: int) -> None:
        self.text, self.limit = text, limit
        self.number = 0  # physical lines begun
        self.start, self.size, self.quotes = 1, 0, 0  # the current record: first line, characters, quote marks
        self._mid_line = False  # the last piece read did not end its line

    def __iter__(self) -> CsvLines:
        return self

    def record_done(self) -> None:
        self.start, self.size, self.quotes = self.number + 1, 0, 0

    def __next__(self) -> str:
        line = self.text.readline(self.limit - self.size + 1)
        if not line:
            raise StopIteration
        self._took(line)
        if self.size <= self.limit:
            return line
        while not (line.endswith(("\n", "\r")) and self.quotes % 2 == 0):
            line = self.text.readline(1 << 16)
            if not line:
                break
            self._took(line)
        start = self.start
        self.record_done()
        raise RecordTooLong(start)

    def _took(self, piece: str) -> None:
        self.size += len(piece)
        self.quotes += piece.count('"')
        self.number += not self._mid_line
        self._mid_line = not piece.endswith(("\n", "\r"))
