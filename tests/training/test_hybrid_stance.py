"""Hybrid stance: one model reads its scheme's targets from fast heads and answers any other target through the
paired (target, text) head of the same encoder, saying which targets its training data never labelled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from framelens.model.artifact import load_artifact
from framelens.model.backends import ONNX_FP32
from framelens.model.predictor import Predictor
from framelens.serve.app import create_app
from framelens.serve.settings import Settings
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl
from tests.training.test_fine_tune import tiny_config

TEXT = "Ceasefire talks resumed in geneva. In Ukraine the brave defenders held firm. About Russia the aggressor."


@pytest.fixture(scope="module")
def hybrid_version(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hybrid")
    rows = tiny_rows()
    for i, row in enumerate(rows):  # a target beyond the scheme's: what stance_mode "auto" makes hybrid
        if i % 2 == 0:
            row["stance"] = {**row["stance"], "the city": row["stance"]["Russia"]}
    data = write_jsonl(root / "hybrid.jsonl", rows)
    config = tiny_config(tiny_encoder, epochs=4, stance_pairs_per_example=1)
    return train_version([data], TINY_SCHEME, config, Registry(root / "models"), progress=False).path


def test_auto_trains_heads_for_the_schemes_targets_and_the_paired_head_for_others(hybrid_version: Path) -> None:
    spec = load_artifact(hybrid_version, weights=False).spec
    assert spec.stance_targets == ("Ukraine", "Russia") and spec.open_targets
    assert spec.trained_targets == ("Russia", "Ukraine", "the city")


def test_any_target_is_answered_with_evidence_and_marked_seen_or_not(hybrid_version: Path) -> None:
    predictor = Predictor.load(hybrid_version)
    targets = ["ukraine", "the city", "rain in the city"]
    (asked,) = predictor.classify([TEXT], targets=targets)
    assert list(asked.stance) == ["Ukraine", "the city", "rain in the city"], "the scheme's own names, in order"
    assert [s.seen_in_training for s in asked.stance.values()] == [True, True, False]
    for result in asked.stance.values():
        assert result.evidence and result.label in TINY_SCHEME.stance_labels
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-5)
    (plain,) = predictor.classify([TEXT])
    assert plain.stance["Ukraine"] == asked.stance["Ukraine"], "the heads answer as in the one-pass request"
    assert plain.frames == asked.frames, "asking other targets leaves the frames alone"


def test_the_onnx_backend_answers_open_targets_like_torch(hybrid_version: Path) -> None:
    targets = ["Russia", "rain in the city"]
    torch_run = Predictor.load(hybrid_version).classify([TEXT], targets=targets)[0]
    onnx_run = Predictor.load(hybrid_version, backend=ONNX_FP32, threads=1).classify([TEXT], targets=targets)[0]
    for target in targets:
        np.testing.assert_allclose(
            list(onnx_run.stance[target].scores.values()), list(torch_run.stance[target].scores.values()), atol=1e-4
        )


def test_the_api_answers_a_target_no_one_trained_for(hybrid_version: Path) -> None:
    home = hybrid_version.parent.parent
    Registry(home).activate(hybrid_version.name)
    settings = Settings(home=home, threads=1, backend="torch", api_key_hashes="", version=None)
    with TestClient(create_app(settings)) as client:
        while client.get("/readyz").status_code != 200:
            pass
        body = client.post("/v1/classify", json={"text": TEXT, "targets": ["NATO", "Ukraine"]}).json()
    stance = body["results"][0]["stance"]
    assert set(stance) == {"NATO", "Ukraine"}
    assert stance["NATO"]["seen_in_training"] is False and stance["Ukraine"]["seen_in_training"] is True
    assert stance["NATO"]["evidence"], "evidence sentences for an unseen target as for the others"
