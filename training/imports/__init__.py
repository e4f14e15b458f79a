"""Imports from labelling tools (Label Studio, Argilla): map their exports to the scheme and say what was skipped."""

from __future__ import annotations

import json
from typing import Any

from framelens.model.errors import DataError
from framelens.model.scheme import Scheme
from framelens.training.examples import TOO_DEEP
from framelens.training.imports import argilla, labelstudio
from framelens.training.imports.mapping import ImportReport

FORMATS = ("labelstudio", "labelstudio-min", "labelstudio-csv", "argilla")


def import_labels(content: str, fmt: str, scheme: Scheme, source: str) -> ImportReport:
    """Rows the export's annotations map to (not yet validated) plus a report of every item skipped and why."""
    if fmt not in FORMATS:
        raise DataError(source, [f"unknown import format {fmt!r}: use one of {', '.join(FORMATS)}"])
    if fmt == "labelstudio-csv":
        return labelstudio.from_csv(content, scheme, source)
    data = _json(content, source)
    if fmt == "labelstudio":
        return labelstudio.from_json(data, scheme)
    if fmt == "labelstudio-min":
        return labelstudio.from_json_min(data, scheme)
    return argilla.from_records(data, scheme)


def _json(content: str, source: str) -> Any:
    try:
        return json.loads(content)
    except RecursionError:
        raise DataError(source, [f"{source}: {TOO_DEEP}"]) from None
    except json.JSONDecodeError as exc:
        if content.lstrip().startswith("["):
            raise DataError(source, [f"{source}:{exc.lineno}: broken JSON at column {exc.colno}: {exc.msg}"]) from None
    # Some tools write one record per line (JSON Lines): accept that too.
    rows = []
    for number, line in enumerate(content.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except RecursionError:
                raise DataError(source, [f"{source}:{number}: {TOO_DEEP}"]) from None
            except json.JSONDecodeError as exc:
                raise DataError(source, [f"{source}:{number}: broken JSON at column {exc.colno}: {exc.msg}"]) from None
    if not rows:
        raise DataError(source, [f"{source}: the file is empty: export the annotations as JSON"])
    return rows


__all__ = ["FORMATS", "ImportReport", "import_labels"]
