"""POST /v1/classify through the app on the tiny model: shapes, evidence, options, batching under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import TINY_SCHEME, tiny_rows
from tests.serve.conftest import PASSAGE, make_settings, serving

FRAMES = TINY_SCHEME.frame_names


def test_one_passage_gets_every_frame_stance_per_default_target_and_evidence(
    client: TestClient, first_version: str
) -> None:
    response = client.post("/v1/classify", json={"text": PASSAGE}, headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-42"
    body = response.json()
    assert body["model_version"] == first_version
    (result,) = body["results"]
    assert [f["label"] for f in result["frames"]] == FRAMES
    for frame in result["frames"]:
        assert 0.0 <= frame["score"] <= 1.0 and isinstance(frame["predicted"], bool)
        assert bool(frame["evidence"]) == frame["predicted"], "a predicted frame says why; others stay quiet"
    assert set(result["stance"]) == {"Ukraine", "Russia"}
    for stance in result["stance"].values():
        assert stance["label"] in TINY_SCHEME.stance_labels
        assert sum(stance["scores"].values()) == pytest.approx(1.0, abs=1e-4)
        assert stance["label"] == max(stance["scores"], key=stance["scores"].get)
    evidence = [e for f in result["frames"] for e in f["evidence"]] + [
        e for s in result["stance"].values() for e in s["evidence"]
    ]
    assert evidence, "some label is explained"
    for e in evidence:
        assert PASSAGE[e["start"] : e["end"]] == e["sentence"]
    assert result["windows"] == 1 and result["model_version"] == first_version


def test_a_request_id_is_made_up_when_absent_or_unsafe(client: TestClient) -> None:
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    unsafe = client.get("/healthz", headers={"X-Request-ID": "a b\tc"}).headers["X-Request-ID"]
    assert unsafe != "a b\tc" and len(unsafe) == 32


def test_several_texts_come_back_in_order_and_match_single_requests(client: TestClient) -> None:
    texts = [r["text"] for r in tiny_rows(4)]
    together = client.post("/v1/classify", json={"texts": texts}).json()["results"]
    alone = [client.post("/v1/classify", json={"text": t}).json()["results"][0] for t in texts]
    assert len(together) == 4
    for a, b in zip(together, alone, strict=True):
        assert [f["score"] for f in a["frames"]] == pytest.approx([f["score"] for f in b["frames"]], abs=1e-5)
        assert {t: s["label"] for t, s in a["stance"].items()} == {t: s["label"] for t, s in b["stance"].items()}


def test_targets_evidence_and_thresholds_change_the_answer(client: TestClient) -> None:
    body = {"text": PASSAGE, "targets": ["Russia", " Russia", "ukraine"], "evidence": False}
    (result,) = client.post("/v1/classify", json=body).json()["results"]
    assert list(result["stance"]) == ["Russia", "Ukraine"], "targets are trimmed, matched and deduplicated"
    assert all(f["evidence"] == [] for f in result["frames"])
    assert all(s["evidence"] == [] for s in result["stance"].values())

    low = {name: 0.0 for name in FRAMES}
    (everything,) = client.post("/v1/classify", json={"text": PASSAGE, "thresholds": low}).json()["results"]
    assert all(f["predicted"] for f in everything["frames"])
    high = {"negotiation": 1.0}
    (stricter,) = client.post("/v1/classify", json={"text": PASSAGE, "thresholds": high}).json()["results"]
    assert not stricter["frames"][FRAMES.index("negotiation")]["predicted"]


def test_a_target_the_model_was_not_trained_for_is_a_clear_422(client: TestClient) -> None:
    response = client.post("/v1/classify", json={"text": PASSAGE, "targets": ["NATO"]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "['Ukraine', 'Russia'] only" in detail and "NATO" in detail, detail


def test_a_long_article_is_read_in_windows_not_truncated(client: TestClient) -> None:
    article = " ".join(r["text"] for r in tiny_rows(12))
    low = {name: 0.0 for name in FRAMES}
    (result,) = client.post("/v1/classify", json={"text": article, "thresholds": low}).json()["results"]
    assert result["windows"] > 1
    last_sentence_start = article.rindex("About Russia")
    reached = max(e["end"] for f in result["frames"] for e in f["evidence"])
    assert reached > len(article) // 2 or any(
        e["start"] >= last_sentence_start for s in result["stance"].values() for e in s["evidence"]
    ), "evidence may come from anywhere in the article, not only its first window"


def test_concurrent_requests_with_different_options_each_get_their_own_answer(trained_home: Path) -> None:
    texts = [r["text"] for r in tiny_rows(8)]
    options = [{}, {"targets": ["Russia"]}, {"evidence": False}, {"thresholds": {"humanitarian": 0.0}}]
    with serving(make_settings(trained_home, batch_max_wait_ms=20)) as client:
        expected = {
            (i, j): client.post("/v1/classify", json={"text": t, **o}).json()["results"][0]
            for i, t in enumerate(texts)
            for j, o in enumerate(options)
        }
        with ThreadPoolExecutor(8) as pool:
            futures = {
                key: pool.submit(client.post, "/v1/classify", json={"text": texts[key[0]], **options[key[1]]})
                for key in expected
            }
            got = {key: f.result() for key, f in futures.items()}
        metrics = client.get("/metrics").text
    for key, response in got.items():
        assert response.status_code == 200
        result, want = response.json()["results"][0], expected[key]
        assert set(result["stance"]) == set(want["stance"])
        assert [f["predicted"] for f in result["frames"]] == [f["predicted"] for f in want["frames"]]
        assert [f["score"] for f in result["frames"]] == pytest.approx([f["score"] for f in want["frames"]], abs=1e-5)
        assert [bool(f["evidence"]) for f in result["frames"]] == [bool(f["evidence"]) for f in want["frames"]]
    assert "framelens_batch_size_texts_count" in metrics
