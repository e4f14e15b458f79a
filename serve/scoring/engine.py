"""`score_archive`: stream an archive through a scorer in chunks, resumable after Ctrl-C or kill -9.

Records are read in a fixed order and scored in chunks of `chunk_size` items; each chunk's rows are appended to
the work folder's parts and recorded in its ledger (see ledger.py). A re-run with the same command skips the
items the ledger counts as done and scores the rest in the same chunks, so its output equals an uninterrupted
run's. At the end the finished files are assembled and renamed into place, and the work folder is removed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TypeVar

from framelens.serve.scoring.ledger import Counts, Workspace
from framelens.serve.scoring.limits import DEFAULT_LIMITS, ArchiveLimits
from framelens.serve.scoring.output import assemble, errors_path, output_format, windows_path
from framelens.serve.scoring.records import BadRecord, Record, count_items, read_archive
from framelens.serve.scoring.rows import error_row

T = TypeVar("T")


@dataclass(frozen=True)
class ScoreOptions:
    targets: tuple[str, ...] | None = None  # stance targets; None: the scheme's
    evidence: bool = True
    windows: bool = False  # also write one row per window
    format: str | None = None  # jsonl, csv or parquet; None: from OUT's suffix
    chunk_size: int = 64  # archive items per chunk: the unit of progress and of resuming
    max_chars: int = 1_000_000  # longer articles go to the errors file
    overwrite: bool = False  # start over even if OUT or an unfinished run exists
    count: bool = True  # count the archive first, for the progress bar's total and ETA
    limits: ArchiveLimits = DEFAULT_LIMITS  # caps on members and lines; what breaks one goes to the errors file
    within: Path | None = None  # a folder's links may not lead out of this folder (the jobs root)


@dataclass
class ScoredChunk:
    articles: list[dict[str, Any]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    n_windows: int = 0


class Scorer(Protocol):
    """What scores a chunk of records: in this process (LocalScorer) or on a Ray cluster (RayScorer)."""

    @property
    def version(self) -> str: ...

    @property
    def engine(self) -> str: ...

    def score(self, records: list[Record], options: ScoreOptions) -> ScoredChunk: ...


@dataclass(frozen=True)
class Summary:
    out: Path
    errors: Path
    windows: Path | None
    counts: Counts
    finished: bool  # False: stopped early (cancelled); the same call continues it
    already_done: bool = False


ProgressFn = Callable[[Counts, int, int], None]  # counts so far, items and windows in the chunk just done


def pending_plan(out: Path) -> dict[str, Any] | None:
    """The plan (model version, chunk size, options) of an unfinished run writing `out`, which a resume must keep."""
    return Workspace(out).read_plan()


def score_archive(
    archive: Path,
    out: Path,
    scorer: Scorer,
    options: ScoreOptions = ScoreOptions(),
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Summary:
    fmt = output_format(out, options.format)
    work = Workspace(out)
    windows_out = windows_path(out) if options.windows else None
    if options.overwrite:
        work.remove()
    elif not work.exists and out.exists():
        return Summary(out, errors_path(out), windows_out, Counts(), finished=True, already_done=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts = work.open(_plan(archive, scorer, options, fmt))
    try:
        if not work.complete:
            if counts.total is None and options.count:
                counts.total = count_items(archive, options.limits, options.within)
                work.append({}, counts)
            if on_progress:
                on_progress(counts, 0, 0)
            items = islice(
                read_archive(archive, options.max_chars, options.limits, options.within), counts.consumed, None
            )
            for chunk in _chunks(items, options.chunk_size):
                windows_read = _score_chunk(chunk, scorer, options, work, counts)
                if on_progress:
                    on_progress(counts, len(chunk), windows_read)
                if should_stop is not None and should_stop():
                    return Summary(out, errors_path(out), windows_out, counts, finished=False)
            work.mark_complete(counts)
        assemble(work.part("errors"), errors_path(out), "jsonl")
        if windows_out is not None:
            assemble(work.part("windows"), windows_out, fmt)
        assemble(work.part("articles"), out, fmt)  # last: OUT existing means the run is complete
        work.remove()
    finally:
        work.close()
    return Summary(out, errors_path(out), windows_out, counts, finished=True)


def _score_chunk(
    chunk: list[Record | BadRecord], scorer: Scorer, options: ScoreOptions, work: Workspace, counts: Counts
) -> int:
    """Score one chunk and record it; returns the windows read."""
    records = [item for item in chunk if isinstance(item, Record)]
    scored = scorer.score(records, options) if records else ScoredChunk()
    errors = [error_row(item) for item in chunk if isinstance(item, BadRecord)] + scored.errors
    counts.consumed += len(chunk)
    counts.scored += len(scored.articles)
    counts.errors += len(errors)
    counts.windows += scored.n_windows
    work.append({"articles": _json(scored.articles), "windows": _json(scored.windows), "errors": _json(errors)}, counts)
    return scored.n_windows


def _json(rows: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in rows]


def _plan(archive: Path, scorer: Scorer, options: ScoreOptions, fmt: str) -> dict[str, Any]:
    """What must not change between a run and its resume (else the output would mix two different runs)."""
    return {
        "archive": str(archive.resolve()),
        "archive_bytes": archive.stat().st_size if archive.is_file() else None,
        "model_version": scorer.version,
        "engine": scorer.engine,
        "targets": list(options.targets) if options.targets is not None else None,
        "evidence": options.evidence,
        "windows": options.windows,
        "format": fmt,
        "chunk_size": options.chunk_size,
        "max_chars": options.max_chars,
    }


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
