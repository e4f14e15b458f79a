"""Labelled passages: read JSON Lines or CSV, check every label against the scheme, report all problems."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelens.model.errors import DataError
from framelens.model.scheme import Scheme

_KNOWN = {"id", "text", "frames", "stance", "split", "fold"}


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    frames: tuple[str, ...] = ()
    stance: dict[str, str] = field(default_factory=dict)
    split: str | None = None
    fold: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # False when the row carries no 'frames' key: its frames are unknown, not "none".
    frames_labelled: bool = True

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "text": self.text, "stance": dict(self.stance)}
        if self.frames_labelled:
            data["frames"] = list(self.frames)
        if self.split is not None:
            data["split"] = self.split
        if self.fold is not None:
            data["fold"] = self.fold
        return {**data, **self.meta}


# JSON nested deeper than Python's recursion limit raises RecursionError, not JSONDecodeError.
TOO_DEEP = "JSON nested too deeply to read (over ~1,000 lists or objects inside each other): send flat records"


def load_examples(path: str | Path, scheme: Scheme) -> list[Example]:
    """Read a .jsonl/.json/.csv file; raise DataError naming file, line and field of every problem."""
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), ["file not found: give the path to a .jsonl or .csv file"])
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(str(path), [f"byte {exc.start}: not UTF-8 text; save the file as UTF-8"]) from None
    rows = read_rows(content, path.suffix.lower(), str(path))
    return validate_rows(rows, scheme, str(path))


def read_rows(content: str, suffix: str, source: str) -> list[tuple[int, Any]]:
    """(line number, parsed row) pairs; a broken line becomes (line, DataError message string)."""
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(content, newline=""))
        rows: list[tuple[int, Any]] = []
        try:
            for row in reader:
                rows.append((reader.line_num, _csv_row(row)))
        except csv.Error as exc:  # a field over the size limit, a stray line break
            problem = f"{source}:{reader.line_num + 1}: unreadable CSV ({exc}): save the file as CSV again"
            raise DataError(source, [problem]) from None
        return rows
    rows = []
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            rows.append((number, f"broken JSON at column {exc.colno}: {exc.msg}"))
        except RecursionError:
            rows.append((number, TOO_DEEP))
    return rows


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """CSV cells: frames as 'a;b' or a JSON list; stance as 'Target=label;…' or a JSON object."""
    out: dict[str, Any] = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
    frames = (row.get("frames") or "").strip()
    if "frames" not in row:
        pass
    elif frames.startswith("["):
        out["frames"] = _json_or_raw(frames)
    else:
        out["frames"] = [f.strip() for f in frames.replace("|", ";").split(";") if f.strip()]
    stance = (row.get("stance") or "").strip()
    if stance.startswith("{"):
        out["stance"] = _json_or_raw(stance)
    elif stance:
        pairs = [p.split("=", 1) for p in stance.split(";") if p.strip()]
        out["stance"] = {p[0].strip(): (p[1].strip() if len(p) > 1 else "") for p in pairs}
    if "fold" in out:
        out["fold"] = int(out["fold"]) if str(out["fold"]).strip().isdecimal() else out["fold"]
    return out


def _json_or_raw(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text


def validate_rows(rows: Iterable[tuple[int, Any]], scheme: Scheme, source: str) -> list[Example]:
    problems: list[str] = []
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        where = f"{source}:{line}"
        if isinstance(row, str):
            problems.append(f"{where}: {row}")
            continue
        before = len(problems)
        example = _check_row(row, scheme, where, problems)
        if example is None:
            continue
        if example.id in seen:
            problems.append(f"{where}: field 'id': duplicate id {example.id!r} (first on line {seen[example.id]})")
            continue
        seen[example.id] = line
        if len(problems) == before:
            examples.append(example)
    if problems:
        raise DataError(source, problems)
    if not examples:
        raise DataError(source, ["no labelled passages found: one JSON object per line, with at least 'text'"])
    return examples


def _check_row(row: Any, scheme: Scheme, where: str, problems: list[str]) -> Example | None:
    if not isinstance(row, dict):
        problems.append(f"{where}: each line must be a JSON object, got {type(row).__name__}")
        return None
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: field 'text': empty or missing; every passage needs its text")
        return None
    frames = row.get("frames", [])
    if not isinstance(frames, list) or not all(isinstance(f, str) for f in frames):
        problems.append(f"{where}: field 'frames': must be a list of frame names, got {frames!r}")
        frames = []
    for frame in frames:
        if frame not in scheme.frame_names:
            hint = scheme.nearest_frame(frame)
            fix = f"did you mean {hint!r}?" if hint else f"scheme {scheme.name!r} has no frames"
            problems.append(f"{where}: field 'frames': unknown frame {frame!r}; {fix}")
    stance = row.get("stance", {}) or {}
    if not isinstance(stance, dict):
        problems.append(f"{where}: field 'stance': must be an object {{target: label}}, got {stance!r}")
        stance = {}
    for target, label in stance.items():
        if label not in scheme.stance_labels:
            hint = scheme.nearest_stance(str(label)) if scheme.has_stance else None
            fix = f"did you mean {hint!r}?" if hint else f"scheme {scheme.name!r} has no stance labels"
            problems.append(f"{where}: field 'stance.{target}': label {label!r} is not in the scheme; {fix}")
    fold = row.get("fold")
    if fold is not None and not isinstance(fold, int):
        problems.append(f"{where}: field 'fold': must be an integer, got {fold!r}")
    split = row.get("split")
    if split is not None and split not in ("train", "dev", "test"):
        problems.append(f"{where}: field 'split': must be train, dev or test, got {split!r}")
    raw_id = row.get("id")
    ident = str(raw_id) if raw_id not in (None, "") else hashlib.sha1(text.encode()).hexdigest()[:16]
    meta = {k: v for k, v in row.items() if k not in _KNOWN}
    return Example(
        ident,
        text,
        tuple(dict.fromkeys(frames)),
        {str(k): str(v) for k, v in stance.items()},
        split,
        fold,
        meta,
        frames_labelled="frames" in row,
    )


def fingerprint(examples: list[Example]) -> str:
    """A hash of the labelled data, stored with each version so a result can be traced to its data."""
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps(ex.to_dict(), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]
