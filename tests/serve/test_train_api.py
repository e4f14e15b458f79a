"""POST /v1/train: a background retrain in a child process, one at a time, promoted and swapped in when done."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from framelens.training.gate import GATE_FILE
from framelens.training.registry import Registry
from tests.serve.conftest import PASSAGE, auth, make_settings, serving


def wait_done(client: TestClient, job_id: str, timeout: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/train/{job_id}").json()
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.25)


def test_a_retrain_job_runs_once_at_a_time_and_its_promotion_is_served(home: Path, first_version: str) -> None:
    # A gate that lets everything through: this test is about the job, the gate has its own tests.
    settings = make_settings(home, gate_macro_tolerance=1.0, gate_frame_tolerance=1.0)
    with serving(settings) as client:
        assert client.post("/v1/train", json={"epochs": 1}).status_code == 401
        started = client.post("/v1/train", json={"epochs": 1}, headers=auth())
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["state"] == "queued" and job["request"]["init_from"] == "active"
        busy = client.post("/v1/train", json={"epochs": 1}, headers=auth())
        assert busy.status_code == 409 and busy.json()["error"] == "training_in_progress"
        assert client.post("/v1/classify", json={"text": PASSAGE}).status_code == 200, "serving goes on meanwhile"

        done = wait_done(client, job["id"])
        assert done["state"] == "succeeded", done["error"] or done["log_tail"]
        assert done["progress"] == 1.0 and "gate: PROMOTE" in done["log_tail"]
        new = done["result"]["version"]
        assert done["result"]["promoted"] and done["result"]["gate"]["compared_with"] == first_version

        deadline = time.monotonic() + 60  # the server swaps the promoted model in as soon as the job ends
        while client.get("/v1/models").json()["served"] != new:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.post("/v1/classify", json={"text": PASSAGE}).json()["model_version"] == new
        listed = {v["version"]: v for v in client.get("/v1/models").json()["versions"]}
        assert listed[new]["active"] and listed[new]["gate"]["promote"] is True
        assert any(c["metric"] == "frames macro-F1" for c in listed[new]["gate"]["checks"])
        assert listed[first_version]["gate"] is None

        assert [j["id"] for j in client.get("/v1/train").json()["jobs"]] == [job["id"]]
        assert client.get("/v1/train/t-none").status_code == 404
        again = client.post("/v1/train", json={"epochs": 1, "promote": False}, headers=auth())
        assert again.status_code == 202, "a finished job frees the slot"
        assert wait_done(client, again.json()["id"])["result"]["promoted"] is False
    registry = Registry(home)
    assert registry.active() == new and (registry.path(new) / GATE_FILE).is_file()
