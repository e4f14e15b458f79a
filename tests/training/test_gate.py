"""The gate: a retrain that keeps quality is promoted; one trained on shuffled labels is refused, the old stays."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from framelens.model.scheme import Scheme
from framelens.serve.cli import main
from framelens.training.examples import load_examples
from framelens.training.gate import GATE_FILE, GatePolicy, checks
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from framelens.training.retrain import RetrainRequest, retrain
from framelens.training.splits import split_examples
from framelens.training.store import ExampleStore, parse_upload
from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl
from tests.training.test_fine_tune import tiny_config

# Frames only: a tiny model learns the tiny frames well, so a fine candidate does not lose a figure by luck on
# a 15-passage test split (stance checks are the same code; test_tolerances_decide_each_check covers them).
FRAMES_ONLY = Scheme("tiny-frames", frames=TINY_SCHEME.frames)


def frame_rows(n: int) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "stance"} for row in tiny_rows(n)]


@pytest.fixture(scope="module")
def good_home(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry whose active model has learnt the tiny data well."""
    root = tmp_path_factory.mktemp("gate")
    data = write_jsonl(root / "seeds.jsonl", frame_rows(96))
    result = train_version([data], FRAMES_ONLY, tiny_config(tiny_encoder), Registry(root / "models"), progress=False)
    assert result.metrics["test"]["frames"]["macro_f1"] >= 0.9
    return root


def private_copy(good_home: Path, tmp_path: Path) -> Path:
    shutil.copytree(good_home, tmp_path, dirs_exist_ok=True)
    # The copied version records the fixture's seed file; point the copy at its own.
    return tmp_path / "models"


def shuffled_seeds(path: Path, out: Path) -> Path:
    """The same passages, with the labels of the train and dev rows shuffled among them; test rows untouched."""
    test_ids = {ex.id for ex in split_examples(load_examples(path, FRAMES_ONLY))["test"]}
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    movable = [r for r in rows if r["id"] not in test_ids]
    labels = [r["frames"] for r in movable]
    random.Random(7).shuffle(labels)
    for row, frames in zip(movable, labels, strict=True):
        row["frames"] = frames
    return write_jsonl(out, rows)


def test_a_fine_candidate_is_promoted_and_its_decision_kept(good_home: Path, tmp_path: Path) -> None:
    home = private_copy(good_home, tmp_path)
    registry = Registry(home)
    before = registry.active()
    extra = frame_rows(100)[96:]  # four new passages in the store
    for row in extra:
        row["id"] = "new-" + row["id"]
        row["text"] = row["text"] + " Officials reported the figures."
    store = ExampleStore(home)
    store.add(parse_upload("".join(json.dumps(r) + "\n" for r in extra), ".jsonl", FRAMES_ONLY, "u"), FRAMES_ONLY, "u")
    seeds = str(tmp_path / "seeds.jsonl")
    # the same recipe as the active model, from the base encoder, with four more passages: a fine candidate
    request = RetrainRequest(init_from="base", threads=1, seed_files=[seeds])
    outcome = retrain(home, request, progress=False)
    assert outcome.promoted and outcome.decision["promote"], outcome.decision["reasons"]
    assert registry.active() == outcome.version != before
    assert outcome.counts == {"seed_examples": 96, "stored_examples": 4}
    gate = json.loads((registry.path(outcome.version) / GATE_FILE).read_text())
    assert gate["compared_with"] == before and gate["n_test"] > 0
    parity = json.loads((registry.path(outcome.version) / "onnx" / "parity.json").read_text())
    assert parity["threads"] == 1 and parity["backends"]["torch"]["passed"], "exported before the swap, not during"
    assert gate["candidate"]["frames"]["per_label"] and gate["active"]["frames"]["per_label"], "both tables kept"
    assert {c["metric"] for c in gate["checks"]} == {"frames macro-F1"} | {
        f"frame {f} F1" for f in FRAMES_ONLY.frame_names
    }
    meta = registry.metadata(outcome.version)
    assert meta["init_from"] == registry.metadata(before)["init_from"] and meta["data"]["counts"]["train"] > 70


def test_a_candidate_trained_on_shuffled_labels_is_refused(
    good_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = private_copy(good_home, tmp_path)
    registry = Registry(home)
    before = registry.active()
    seeds = shuffled_seeds(tmp_path / "seeds.jsonl", tmp_path / "shuffled.jsonl")
    outcome = retrain(home, RetrainRequest(epochs=12, threads=1, seed_files=[str(seeds)]), progress=False)
    assert not outcome.promoted and not outcome.decision["promote"]
    assert any("fell" in reason for reason in outcome.decision["reasons"]), outcome.decision["reasons"]
    assert registry.active() == before, "the active model stays"
    assert outcome.version in registry.versions(), "the refused candidate is kept, not active, for inspection"
    assert json.loads((registry.path(outcome.version) / GATE_FILE).read_text())["promote"] is False
    assert main(["--home", str(home), "models"]) == 0
    listing = capsys.readouterr().out
    assert f"gate REFUSED vs {before}: frame" in listing and f"* {before}" in listing


def test_tolerances_decide_each_check() -> None:
    active = {
        "frames": {"macro_f1": 0.8, "per_label": {"a": {"f1": 0.9, "support": 3}, "b": {"f1": 0.7, "support": 2}}},
        "stance": {"all": {"macro_f1": 0.6}, "per_target": {"X": {"macro_f1": 0.6}}},
    }
    candidate = {
        "frames": {"macro_f1": 0.795, "per_label": {"a": {"f1": 0.96, "support": 3}, "b": {"f1": 0.63, "support": 2}}},
        "stance": {"all": {"macro_f1": 0.58}, "per_target": {"X": {"macro_f1": 0.58}}},
    }
    rows = {c["metric"]: c["ok"] for c in checks(candidate, active, GatePolicy(0.01, 0.05))}
    assert rows == {"frames macro-F1": True, "frame a F1": True, "frame b F1": False, "stance X macro-F1": False}
