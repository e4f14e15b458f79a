"""The Ray engine (a local Ray, one CPU) gives the same labels as the local engine on the same archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from model.predictor import Predictor
from serve.scoring.engine import ScoreOptions, score_archive
from serve.scoring.local import LocalScorer
from tests.serve.scoring.conftest import articles, read_jsonl, write_articles
from training.registry import Registry

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside Ray's own DataContext
ray = pytest.importorskip("ray", reason="the Ray engine is optional: pip install '.[ray]' to test it")


@pytest.fixture()
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_and_local_engines_give_the_same_labels(
    local_ray: None, trained_home: Path, predictor: Predictor, tmp_path: Path
) -> None:
    from serve.scoring.ray_engine import RayScorer

    rows = articles(30)
    rows[3]["text"] = " "
    archive = write_articles(tmp_path / "news.jsonl", rows)
    options = ScoreOptions(chunk_size=16, windows=True)
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    score_archive(archive, local_out, LocalScorer(predictor), options)
    version = Registry(trained_home).active()
    assert version is not None
    scorer = RayScorer(Registry(trained_home).path(version), workers=1, threads=1)
    summary = score_archive(archive, ray_out, scorer, options)
    assert summary.finished and summary.counts.scored == 29 and summary.counts.errors == 1
    local, distributed = read_jsonl(local_out), read_jsonl(ray_out)
    assert [r["id"] for r in distributed] == [r["id"] for r in local]
    for a, b in zip(distributed, local, strict=True):
        assert a["labels"] == b["labels"] and a["stance"] == b["stance"] and a["windows"] == b["windows"]
        assert a["scores"] == pytest.approx(b["scores"], abs=1e-5)
    ray_windows, local_windows = (
        read_jsonl(tmp_path / "ray.windows.jsonl"),
        read_jsonl(tmp_path / "local.windows.jsonl"),
    )
    assert [(w["id"], w["window"], w["labels"]) for w in ray_windows] == [
        (w["id"], w["window"], w["labels"]) for w in local_windows
    ]
    assert read_jsonl(tmp_path / "ray.jsonl.errors.jsonl") == read_jsonl(tmp_path / "local.jsonl.errors.jsonl")
