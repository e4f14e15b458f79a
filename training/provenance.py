"""What a version keeps about its data so it can re-check itself wherever it is served from.

Each labelled file is recorded by absolute path and SHA-256, and the held-out rows (dev and test) are copied into
the version folder: the parity check reads that copy, so a registry copied elsewhere or served from another
folder still compares F1 on real passages; a retrain refuses seed files that are missing or changed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError
from framelens.model.onnx_backend import file_sha256
from framelens.model.scheme import Scheme
from framelens.training.examples import Example, load_examples

HELD_OUT = "held_out.jsonl"


def describe_files(files: list[str | Path]) -> dict[str, Any]:
    """The `files` (absolute paths) and `sha256` (path -> digest) a version's metadata records."""
    paths = [Path(f).resolve() for f in files]
    return {"files": [str(p) for p in paths], "sha256": {str(p): file_sha256(p) for p in paths}}


def write_held_out(folder: Path, parts: dict[str, list[Example]]) -> int:
    """Copy the dev and test rows (with their split) into the version folder; returns how many."""
    rows = [dataclasses.replace(ex, split=name).to_dict() for name in ("dev", "test") for ex in parts.get(name, [])]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (folder / HELD_OUT).write_text(text, encoding="utf-8")
    return len(rows)


def read_held_out(version_dir: Path, scheme: Scheme) -> list[Example]:
    """The version's own copy of its held-out rows; empty for versions made before copies were kept."""
    path = version_dir / HELD_OUT
    return load_examples(path, scheme) if path.is_file() else []


def verified_files(metadata: dict[str, Any]) -> list[str]:
    """The labelled files a version was trained on, each checked to be there and unchanged; else an error that
    names the file and the fix. Versions recorded before hashes were kept are checked for presence only."""
    data = metadata.get("data") or {}
    hashes: dict[str, str] = data.get("sha256") or {}
    version = metadata.get("version", "the active version")
    files = [str(f) for f in data.get("files") or []]
    for name in files:
        path = Path(name)
        fix = (
            "restore that file, or name the seed files to retrain on (`framelens retrain --seeds FILE …`, "
            '`POST /v1/train` with "seed_files"), or retrain from the base encoder on a new file with `framelens train`'
        )
        if not path.is_file():
            where = " (a relative path: run from the folder it was trained in)" if not path.is_absolute() else ""
            raise FramelensError(f"{version} was trained on {name}, which is missing{where}: {fix}")
        if name in hashes and file_sha256(path) != hashes[name]:
            raise FramelensError(f"{version} was trained on {name}, which has changed since (SHA-256 differs): {fix}")
    return files
