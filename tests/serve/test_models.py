"""Model versions over HTTP: list with metrics, activate without downtime, readiness while nothing is served."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from framelens.model.backends import recorded_choice
from framelens.training.registry import Registry
from tests.fixtures import TINY_SCHEME
from tests.serve.conftest import PASSAGE, SECOND, auth, make_settings, serving


def test_models_lists_versions_with_metrics_and_marks_active_and_served(
    client: TestClient, first_version: str, trained_home: Path
) -> None:
    body = client.get("/v1/models").json()
    assert body["active"] == body["served"] == first_version
    listed = {v["version"]: v for v in body["versions"]}
    assert set(listed) == {first_version, SECOND}
    first = listed[first_version]
    assert first["active"] and first["served"] and first["scheme"] == "tiny"
    assert 0.0 <= first["metrics"]["frames_macro_f1"] <= 1.0
    assert not listed[SECOND]["served"]
    assert body["backend"] == recorded_choice(Registry(trained_home).path(first_version)), "the default is auto"


def test_auto_backend_serves_the_fastest_that_passed_parity_and_says_which(home: Path, first_version: str) -> None:
    with serving(make_settings(home, backend="auto")) as client:
        body = client.get("/v1/models").json()
        record = json.loads((home / "versions" / first_version / "onnx" / "parity.json").read_text())
        passed = {name for name, entry in record["backends"].items() if entry["passed"]}
        assert body["backend"] in passed, "auto picks a backend that passed the recorded check"
        fastest = max(passed, key=lambda name: record["backends"][name]["passages_per_s"])
        assert body["backend"] == fastest
        response = client.post("/v1/classify", json={"text": PASSAGE})
        assert response.status_code == 200 and response.json()["results"][0]["model_version"] == first_version


def test_scheme_lists_the_served_labels_with_descriptions(client: TestClient, first_version: str) -> None:
    body = client.get("/v1/scheme").json()
    assert [f["name"] for f in body["frames"]] == TINY_SCHEME.frame_names
    assert body["frames"][0]["description"] == "talks" and 0 < body["frames"][0]["threshold"] < 1
    assert body["stance"]["labels"] == list(TINY_SCHEME.stance_labels)
    assert body["stance"]["targets"] == ["Ukraine", "Russia"]
    assert body["model_version"] == first_version


def _scores(result: dict) -> list[float]:
    frames = [f["score"] for f in result["frames"]]
    return frames + [p for s in result["stance"].values() for p in s["scores"].values()]


def test_activation_swaps_the_model_while_requests_keep_succeeding(home: Path, first_version: str) -> None:
    with serving(make_settings(home, batch_max_wait_ms=1)) as client:
        before = _scores(client.post("/v1/classify", json={"text": PASSAGE}).json()["results"][0])
        seen: list[tuple[int, str | None]] = []
        answers: list[tuple[str, list[float]]] = []
        stop = threading.Event()

        def hammer() -> None:
            while not stop.is_set():
                r = client.post("/v1/classify", json={"text": PASSAGE})
                seen.append((r.status_code, r.json().get("model_version")))
                if r.status_code == 200:
                    answers.append((r.json()["model_version"], _scores(r.json()["results"][0])))

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for w in workers:
            w.start()
        time.sleep(0.3)
        swapped = client.post(f"/v1/models/{SECOND}/activate", headers=auth())
        time.sleep(0.3)
        stop.set()
        for w in workers:
            w.join()
        assert swapped.status_code == 200
        assert swapped.json() == {"active": SECOND, "served": SECOND, "previous": first_version}
        assert seen and all(status == 200 for status, _ in seen), "no request failed during the swap"
        assert {v for _, v in seen} <= {first_version, SECOND} and seen[-1][1] == SECOND
        after = client.post("/v1/classify", json={"text": PASSAGE}).json()
        assert after["model_version"] == SECOND
        later = _scores(after["results"][0])
        assert max(abs(a - b) for a, b in zip(before, later, strict=True)) > 1e-3, "the two models score differently"
        expected = {first_version: before, SECOND: later}
        assert answers and all(
            max(abs(a - b) for a, b in zip(scores, expected[version], strict=True)) < 1e-5
            for version, scores in answers
        ), "every answer comes wholly from the one model it names, never a mix"
        assert client.get("/readyz").json()["model_version"] == SECOND
        assert f'framelens_model_info{{version="{SECOND}"}} 1.0' in client.get("/metrics").text
    assert Registry(home).active() == SECOND, "the registry's active pointer moved too: a restart serves it"


def test_unknown_version_is_404_and_nothing_changes(home: Path, first_version: str) -> None:
    with serving(make_settings(home)) as client:
        for name in ("v-none", "..", "%2e%2e%2fetc"):
            response = client.post(f"/v1/models/{name}/activate", headers=auth())
            assert response.status_code == 404, response.text
        assert SECOND in client.post("/v1/models/v-none/activate", headers=auth()).json()["detail"]
        assert client.get("/v1/models").json()["served"] == first_version
    assert Registry(home).active() == first_version


def test_without_a_model_the_service_is_alive_but_not_ready(tmp_path: Path) -> None:
    with serving(make_settings(tmp_path / "empty"), ready=False) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        deadline = time.monotonic() + 10
        while "no active model" not in client.get("/readyz").text and time.monotonic() < deadline:
            time.sleep(0.02)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "framelens train" in ready.json()["detail"]
        classify = client.post("/v1/classify", json={"text": PASSAGE})
        assert classify.status_code == 503 and classify.json()["error"] == "model_not_ready"
        assert client.get("/v1/models").json() == {"active": None, "served": None, "backend": None, "versions": []}


def test_a_pinned_version_is_served_instead_of_the_active_one(home: Path, first_version: str) -> None:
    with serving(make_settings(home, version=SECOND)) as client:
        assert client.get("/readyz").json()["model_version"] == SECOND
        assert client.get("/v1/models").json()["active"] == first_version


def _served(client: TestClient, wanted: str, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while (served := client.get("/v1/models").json()["served"]) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return str(served)


def test_a_server_follows_the_pointer_another_process_moved(home: Path, first_version: str) -> None:
    # Another server worker's activation, a promotion or `framelens activate` moves active.json under this process.
    with serving(make_settings(home, follow_active_s=0.05)) as client:
        Registry(home).activate(SECOND)
        assert _served(client, SECOND) == SECOND
        assert client.post("/v1/classify", json={"text": PASSAGE}).json()["model_version"] == SECOND
        Registry(home).activate(first_version)  # a rollback elsewhere reaches it too
        assert _served(client, first_version) == first_version


def test_a_pinned_version_or_no_following_stays_put(home: Path, first_version: str) -> None:
    pinned_settings = make_settings(home, version=first_version, follow_active_s=0.05)
    with serving(pinned_settings) as pinned, serving(make_settings(home, follow_active_s=0)) as unfollowing:
        Registry(home).activate(SECOND)
        time.sleep(0.5)
        assert pinned.get("/v1/models").json()["served"] == first_version
        assert unfollowing.get("/v1/models").json()["served"] == first_version
