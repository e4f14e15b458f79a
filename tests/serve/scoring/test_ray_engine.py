"""The Ray engine (a local Ray, one CPU) gives the same labels as the local engine on the same archive, on the
backend the local engine would use (torch, or an ONNX graph that travels to the actors)."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from framelens.serve.batch_cli import _scorer
from framelens.serve.predictors import PredictorFactory
from framelens.serve.scoring.engine import ScoreOptions, score_archive
from framelens.serve.scoring.local import LocalScorer
from framelens.training.registry import Registry
from tests.serve.scoring.conftest import articles, read_jsonl, write_articles

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside Ray's own DataContext
ray = pytest.importorskip("ray", reason="the Ray engine is optional: pip install '.[ray]' to test it")


@pytest.fixture()
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_ray_and_local_engines_give_the_same_labels(
    local_ray: None, trained_home: Path, tmp_path: Path, backend: str
) -> None:
    home = shutil.copytree(trained_home, tmp_path / "home")  # an ONNX export must not touch the shared version
    version = Registry(home).active()
    assert version is not None
    model_dir = Registry(home).path(version)

    def engine(name: str) -> object:
        factory = PredictorFactory(backend, threads=1)
        return _scorer(argparse.Namespace(engine=name, workers=1, ray_address=None), model_dir, factory)

    local_scorer, ray_scorer = engine("local"), engine("ray")
    assert isinstance(local_scorer, LocalScorer) and local_scorer.predictor.backend == backend
    assert getattr(ray_scorer, "backend", None) == backend
    rows = articles(30)
    rows[3]["text"] = " "
    archive = write_articles(tmp_path / "news.jsonl", rows)
    options = ScoreOptions(chunk_size=16, windows=True)
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    score_archive(archive, local_out, local_scorer, options)
    summary = score_archive(archive, ray_out, ray_scorer, options)
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
