"""Active learning: the least sure passages come first, near-duplicates do not crowd the list, tools can read it."""

from __future__ import annotations

import json
from pathlib import Path

from framelens.model.prediction import FrameResult, StanceResult, TextPrediction
from framelens.training.imports import import_labels
from framelens.training.suggest import (
    as_jsonl,
    as_labelstudio,
    frame_uncertainty,
    read_archive,
    stance_uncertainty,
    suggest,
)
from tests.fixtures import TINY_SCHEME

THRESHOLDS = {"negotiation": 0.4, "military_aid": 0.5, "humanitarian": 0.6}


def prediction(scores: list[float], stance: list[float]) -> TextPrediction:
    frames = [FrameResult(n, s, s >= THRESHOLDS[n]) for n, s in zip(THRESHOLDS, scores, strict=True)]
    probs = dict(zip(("favor", "against", "neutral"), stance, strict=True))
    return TextPrediction(frames, {"Ukraine": StanceResult(max(probs, key=probs.__getitem__), probs)}, 1, "v-test")


def test_scores_near_a_threshold_and_flat_stance_are_least_sure() -> None:
    sure = prediction([0.01, 0.99, 0.02], [0.98, 0.01, 0.01])
    unsure = prediction([0.41, 0.9, 0.1], [0.34, 0.33, 0.33])
    assert frame_uncertainty(unsure, THRESHOLDS) > 0.95 > 0.1 > frame_uncertainty(sure, THRESHOLDS)
    assert stance_uncertainty(unsure) > 0.99 and stance_uncertainty(sure) < 0.15


def test_suggestions_are_uncertain_first_and_diverse(tmp_path: Path) -> None:
    archive = tmp_path / "pool.txt"
    texts = (
        ["Ceasefire talks resumed in Geneva on Monday."] * 1
        + [f"Ceasefire talks resumed in Geneva on Monday, copy {i}." for i in range(5)]
        + [
            "Refugees crossed the border at night.",
            "A new weapons package arrived in the port.",
            "The weather stayed dry across the region.",
        ]
        + [f"Unremarkable certain report number {i} about grain prices." for i in range(20)]
    )
    archive.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    passages = read_archive(archive)
    assert len(passages) == len(texts)
    unsure, sure = prediction([0.42, 0.5, 0.6], [0.4, 0.3, 0.3]), prediction([0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
    predictions = [unsure if i < 9 else sure for i in range(len(passages))]
    chosen = suggest(passages, predictions, THRESHOLDS, 4)
    picked = [s.passage.text for s in chosen]
    assert len(picked) == 4 and all("Unremarkable" not in t for t in picked), "the uncertain ones first"
    assert sum("Geneva" in t for t in picked) == 1, "one of six near-duplicates is enough"

    tasks = as_labelstudio(chosen)
    assert tasks[0]["data"]["passage_id"] == chosen[0].passage.id
    assert tasks[0]["predictions"][0]["model_version"] == "v-test"
    # A task exported for labelling comes back through the Label Studio import with the same id.
    tasks[0]["annotations"] = [{"result": tasks[0]["predictions"][0]["result"]}]
    back = import_labels(json.dumps(tasks[:1]), "labelstudio", TINY_SCHEME, "round-trip")
    assert back.rows[0][1]["id"] == chosen[0].passage.id
    rows = [json.loads(line) for line in as_jsonl(chosen).splitlines()]
    assert rows[0]["id"] == chosen[0].passage.id and "frames" not in rows[0], "labels are left for the labeller"


def test_archives_in_jsonl_and_csv(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "x1", "text": "One.", "date": "2024-01-01"}\n"Two."\n{"text": ""}\n')
    (tmp_path / "a.csv").write_text('id,text\nc1,"First, passage."\nc2,Second.\n')
    jsonl = read_archive(tmp_path / "a.jsonl")
    assert (jsonl[0].id, jsonl[0].text) == ("x1", "One.") and len(jsonl) == 2
    assert jsonl[0].meta == {"date": "2024-01-01"}
    assert [p.id for p in read_archive(tmp_path / "a.csv")] == ["c1", "c2"]
