"""Article archives made from the tiny fixture texts, and a predictor on the session's tiny model version."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from framelens.model.predictor import Predictor
from framelens.serve.predictors import PredictorFactory
from framelens.training.registry import Registry
from tests.fixtures import tiny_rows

OUTLETS = ("daily", "herald", "gazette")


def articles(n: int) -> list[dict[str, Any]]:
    """`n` articles of one to three tiny passages (so some need several windows), dated over half a year."""
    rows = tiny_rows()
    start = dt.date(2023, 1, 2)
    out = []
    for i in range(n):
        parts = [rows[(i + k) % len(rows)]["text"] for k in range(1 + i % 3)]
        out.append(
            {
                "id": f"a-{i:04d}",
                "text": " ".join(parts),
                "title": f"Article {i}",
                "date": (start + dt.timedelta(days=(i * 7) % 180)).isoformat(),
                "outlet": OUTLETS[i % len(OUTLETS)],
            }
        )
    return out


def write_articles(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def predictor(trained_home: Path) -> Predictor:
    registry = Registry(trained_home)
    version = registry.active()
    assert version is not None
    # The default backend, resolved the way every face resolves it: jobs and the API score with the same one.
    return PredictorFactory(threads=1).load(registry.path(version))
