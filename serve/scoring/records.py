"""Articles streamed out of an archive (JSONL, CSV, Parquet, a folder of .txt/.md, a .zip or .tar.gz of those).

Every item is a `Record` or a `BadRecord` (with the reason and where it was), in a fixed order, one at a time, so
a reader never holds more than one file's row group in memory and a resumed run can skip what it has done."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from framelens.serve.scoring.archives import READ_ERRORS, kind_of, members
from framelens.serve.scoring.limits import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    CsvLines,
    MemberRefused,
    RecordTooLong,
    read_line,
)

csv.field_size_limit(64 * 1024 * 1024)  # whole articles sit in one CSV field


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    where: str  # file:line, or the member of a folder or archive
    title: str | None = None
    date: str | None = None
    outlet: str | None = None


@dataclass(frozen=True)
class BadRecord:
    where: str
    reason: str


Item = Record | BadRecord


def read_archive(
    path: Path, max_chars: int = 1_000_000, limits: ArchiveLimits = DEFAULT_LIMITS, within: Path | None = None
) -> Iterator[Item]:
    """Every record of the archive in a stable order; records that cannot be scored come as `BadRecord`s, and so
    does a member past a cap of `limits` (or a link out of `within`) and a member that breaks off part-way."""
    for name, opener in members(path, limits, within):
        try:
            with opener() as stream:
                yield from _read_member(name, stream, max_chars, limits)
        except MemberRefused as exc:
            yield BadRecord(name, exc.reason)
        except READ_ERRORS as exc:
            yield BadRecord(name, f"the file breaks off here ({exc}): check the archive")


def count_items(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS, within: Path | None = None) -> int:
    """How many items `read_archive` yields (for the progress bar's ETA); a cheap pass that scores nothing."""
    total = 0
    for name, opener in members(path, limits, within):
        try:
            with opener() as stream:
                for n in _member_counts(name, stream, limits):
                    total += n
        except (MemberRefused, *READ_ERRORS):
            total += 1
    return total


def _member_counts(name: str, stream: IO[bytes], limits: ArchiveLimits) -> Iterator[int]:
    kind = kind_of(name)
    if kind in (".jsonl", ".ndjson"):
        while True:
            line, too_long = read_line(stream, limits.line_bytes)
            if not line and not too_long:
                return
            yield 1 if too_long or line.strip() else 0
    elif kind == ".parquet":
        with _parquet_source(stream) as source:
            yield _parquet_file(source).metadata.num_rows
    elif kind == ".csv":
        yield from (1 for _ in _csv(name, stream, 0, limits))
    else:
        yield 1


def _read_member(name: str, stream: IO[bytes], max_chars: int, limits: ArchiveLimits) -> Iterator[Item]:
    kind = kind_of(name)
    if kind in (".jsonl", ".ndjson"):
        yield from _jsonl(name, stream, max_chars, limits)
    elif kind == ".csv":
        yield from _csv(name, stream, max_chars, limits)
    elif kind == ".parquet":
        yield from _parquet(name, stream, max_chars)
    else:
        yield _text_file(name, stream, max_chars)


def _jsonl(name: str, stream: IO[bytes], max_chars: int, limits: ArchiveLimits) -> Iterator[Item]:
    number = 0
    while True:
        raw, too_long = read_line(stream, limits.line_bytes)
        if not raw and not too_long:
            return
        number += 1
        where = f"{name}:{number}"
        if too_long:
            yield BadRecord(where, f"a line {limits.line_too_long()}")
            continue
        if not raw.strip():
            continue
        try:
            fields = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield BadRecord(where, f"undecodable bytes (not UTF-8) at byte {exc.start}")
            continue
        except json.JSONDecodeError as exc:
            yield BadRecord(where, f"broken JSON line ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield BadRecord(where, "JSON nested too deeply to read")
            continue
        if not isinstance(fields, dict):
            yield BadRecord(where, 'not a JSON object: each line must be {"text": "…", …}')
            continue
        yield _record(fields, where, max_chars)


def _csv(name: str, stream: IO[bytes], max_chars: int, limits: ArchiveLimits) -> Iterator[Item]:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    lines = CsvLines(text, limits.line_bytes)
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        yield BadRecord(f"{name}:1", f"broken CSV header ({exc})")
        return
    except RecordTooLong:
        yield BadRecord(f"{name}:1", f"the header is {limits.line_too_long()}")
        return
    if not header or "text" not in header:
        yield BadRecord(f"{name}:1", f"no 'text' column (columns: {header or 'none'}): name the article column 'text'")
        return
    lines.record_done()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            lines.record_done()
            yield BadRecord(f"{name}:{lines.number}", f"broken CSV line ({exc})")
            continue
        except RecordTooLong as exc:
            yield BadRecord(f"{name}:{exc.line}", f"a record {limits.line_too_long()}")
            continue
        lines.record_done()
        where = f"{name}:{lines.number}"
        if None in row:
            yield BadRecord(where, f"more fields than the {len(header)} columns of the header")
        elif any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
            yield BadRecord(where, "undecodable bytes (not UTF-8)")
        else:
            yield _record(row, where, max_chars)


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@contextmanager
def _parquet_source(stream: IO[bytes]) -> Iterator[str | IO[bytes]]:
    """Parquet needs a file to seek in, best by name (Arrow then reads it natively, outside Python's heap): the
    file itself, or a member of an archive copied to a temporary file through the member's caps, never held in
    memory."""
    name = getattr(stream, "name", None)
    if _on_disk(stream):
        yield name if isinstance(name, str) else stream
        return
    with tempfile.NamedTemporaryFile(prefix="framelens-", suffix=".parquet") as spool:
        shutil.copyfileobj(stream, spool, 1 << 16)
        spool.flush()
        yield spool.name


def _on_disk(stream: IO[bytes]) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, AttributeError, ValueError):  # a member of an archive has no file descriptor
        return False


def _parquet_file(source: str | IO[bytes]) -> Any:
    import pyarrow.parquet as pq

    return pq.ParquetFile(source)


def _parquet(name: str, stream: IO[bytes], max_chars: int) -> Iterator[Item]:
    with _parquet_source(stream) as source:
        try:
            table = _parquet_file(source)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            yield BadRecord(name, f"not a readable Parquet file ({exc})")
            return
        present = [c for c in ("id", "text", "title", "date", "outlet") if c in table.schema_arrow.names]
        if "text" not in present:
            names = table.schema_arrow.names
            yield BadRecord(name, f"no 'text' column (columns: {names}): name the article column 'text'")
            return
        number = 0
        for batch in table.iter_batches(batch_size=256, columns=present):
            for fields in batch.to_pylist():
                number += 1
                yield _record(fields, f"{name}:{number}", max_chars)


def _text_file(name: str, stream: IO[bytes], max_chars: int) -> Item:
    raw = stream.read(4 * max_chars + 4)  # UTF-8 is at most 4 bytes a character: enough to know it is too long
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadRecord(name, f"undecodable bytes (not UTF-8) at byte {exc.start}")
    title = next((line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()), None)
    return _record({"id": name, "text": text, "title": title[:300] if title else None}, name, max_chars)


def _record(fields: dict[str, Any], where: str, max_chars: int) -> Item:
    text = fields.get("text")
    if text is None:
        return BadRecord(where, "no 'text' field: each article needs its text in 'text'")
    if not isinstance(text, str):
        return BadRecord(where, f"'text' is {type(text).__name__}, not a string")
    if not text.strip():
        return BadRecord(where, "empty text")
    if len(text) > max_chars:
        return BadRecord(where, f"text has {len(text):,} characters, over the limit of {max_chars:,}: split it")
    given = _optional(fields.get("id"))
    return Record(
        id=given or where,
        text=text,
        where=where,
        title=_optional(fields.get("title")),
        date=_optional(fields.get("date")),
        outlet=_optional(fields.get("outlet")),
    )


def _optional(value: object) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.strip() or None
