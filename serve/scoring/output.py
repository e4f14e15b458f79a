"""The finished files: articles (and windows) as JSON Lines, CSV or Parquet, errors as JSON Lines.

Each is assembled from a JSON Lines part file into a temporary file and renamed into place, so a reader never
sees half a file; rows are streamed, so memory stays flat however many there are."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError
from framelens.serve.scoring.rows import FLOAT_PREFIXES, INT_COLUMNS, flatten, unflatten

OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_BATCH = 1024  # rows per Parquet row group / read-back batch


def output_format(out: Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in set(OUTPUT_FORMATS.values()):
            raise FramelensError(f"unknown output format {explicit!r}: use jsonl, csv or parquet")
        return explicit
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise FramelensError(f"cannot tell the output format of {out.name}: end it in .jsonl, .csv or .parquet")
    return fmt


def errors_path(out: Path) -> Path:
    return out.with_name(out.name + ".errors.jsonl")


def windows_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.windows{out.suffix or '.jsonl'}")


def assemble(part: Path, dest: Path, fmt: str) -> None:
    """Write the rows of the JSON Lines `part` to `dest` in `fmt`, atomically (temporary file, fsync, rename)."""
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        if fmt == "jsonl":
            _copy(part, tmp)
        elif fmt == "csv":
            _csv(part, tmp)
        else:
            _parquet(part, tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _lines(part: Path) -> Iterator[dict[str, Any]]:
    with part.open("rb") as handle:
        for line in handle:
            yield json.loads(line)


def _copy(part: Path, tmp: Path) -> None:
    with part.open("rb") as src, tmp.open("wb") as dst:
        while block := src.read(1 << 20):
            dst.write(block)


def _csv(part: Path, tmp: Path) -> None:
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer: csv.DictWriter[str] | None = None
        for row in _lines(part):
            flat = flatten(row)
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(flat))
                writer.writeheader()
            writer.writerow(flat)


def _schema(columns: list[str]) -> Any:
    import pyarrow as pa

    def kind(column: str) -> Any:
        if column.startswith(FLOAT_PREFIXES):
            return pa.float64()
        return pa.int64() if column in INT_COLUMNS else pa.string()

    return pa.schema([(c, kind(c)) for c in columns])


def _parquet(part: Path, tmp: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: Any = None
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal writer
        if not batch:
            return
        if writer is None:
            writer = pq.ParquetWriter(tmp, _schema(list(batch[0])))
        writer.write_table(pa.Table.from_pylist(batch, schema=writer.schema))
        batch.clear()

    try:
        for row in _lines(part):
            batch.append(flatten(row))
            if len(batch) >= _BATCH:
                flush()
        flush()
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no rows: still a valid, empty file
        pq.write_table(pa.table({"id": pa.array([], pa.string())}), tmp)


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a scores file written by `framelens score`, in the nested shape, one at a time."""
    if not path.is_file():
        raise FramelensError(f"{path} does not exist: give a scores file written by `framelens score`")
    fmt = output_format(path)
    if fmt == "jsonl":
        with path.open("rb") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise FramelensError(f"{path.name}:{number} is not JSON ({exc.msg})") from exc
    elif fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for flat in csv.DictReader(handle):
                yield unflatten(flat)
    else:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH):
            for flat in batch.to_pylist():
                yield unflatten(flat)
