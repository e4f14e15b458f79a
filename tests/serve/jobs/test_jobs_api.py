"""Scoring jobs over HTTP: upload or server path, poll, stream results, cancel, and resume after a restart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from framelens.model.predictor import Predictor
from framelens.serve.jobs.store import JobStore
from framelens.serve.scoring.engine import ScoreOptions, score_archive
from framelens.serve.scoring.local import LocalScorer
from tests.serve.conftest import auth, make_settings, serving
from tests.serve.scoring.conftest import articles, read_jsonl, write_articles


def _upload(client: TestClient, path: Path, **fields: str) -> Any:
    with path.open("rb") as handle:
        return client.post("/v1/jobs", files={"file": (path.name, handle)}, data=fields, headers=auth())


def _wait(client: TestClient, job_id: str, until: tuple[str, ...] = ("done", "failed"), timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in until:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def _results(client: TestClient, job_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/jobs/{job_id}/results")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def test_upload_poll_and_stream_results(trained_home: Path, predictor: Predictor, tmp_path: Path) -> None:
    rows = articles(12)
    rows[4]["text"] = ""
    archive = write_articles(tmp_path / "news.jsonl", rows)
    expected = tmp_path / "cli.jsonl"
    score_archive(archive, expected, LocalScorer(predictor), ScoreOptions(chunk_size=3, targets=("Ukraine",)))
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_chunk_size=3)) as client:
        created = _upload(client, archive, targets="Ukraine")
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        assert created.json()["state"] == "queued" and created.json()["name"] == "news.jsonl"
        job = _wait(client, job_id)
        assert job["state"] == "done", job
        assert job["progress"] == {"done": 12, "total": 12, "fraction": 1.0}
        assert job["counts"]["scored"] == 11 and job["counts"]["errors"] == 1 and job["counts"]["windows"] >= 11
        assert job["errors"] == [{"where": "news.jsonl:5", "reason": "empty text"}]
        got = _results(client, job_id)
    want = read_jsonl(expected)
    assert [r["id"] for r in got] == [r["id"] for r in want]
    assert [(r["labels"], r["stance"]) for r in got] == [(r["labels"], r["stance"]) for r in want]
    assert set(got[0]["stance"]) == {"Ukraine"}


def test_server_paths_only_under_the_jobs_root(trained_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    write_articles(root / "in" / "a.jsonl", articles(3))
    write_articles(tmp_path / "outside.jsonl", articles(3))
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs")) as client:
        off = client.post("/v1/jobs", json={"path": "in/a.jsonl"}, headers=auth())
        assert off.status_code == 403 and "FRAMELENS_JOBS_ROOT" in off.json()["detail"]
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_root=root)) as client:
        for path in ("../outside.jsonl", str(tmp_path / "outside.jsonl"), "/etc/passwd"):
            refused = client.post("/v1/jobs", json={"path": path}, headers=auth())
            assert refused.status_code == 403 and refused.json()["error"] == "path_outside_root", path
        assert client.post("/v1/jobs", json={"path": "in/none.jsonl"}, headers=auth()).status_code == 404
        assert client.post("/v1/jobs", json={"path": "in/a.jsonl"}).status_code == 401, "writes need the key"
        assert client.post("/v1/jobs", json={"path": "in/a.jsonl", "x": 1}, headers=auth()).status_code == 422
        created = client.post("/v1/jobs", json={"path": "in/a.jsonl", "evidence": False}, headers=auth())
        assert created.status_code == 202 and created.json()["name"] == "in/a.jsonl"
        assert _wait(client, created.json()["id"])["state"] == "done"
        assert [r["id"] for r in _results(client, created.json()["id"])] == ["a-0000", "a-0001", "a-0002"]
        assert "evidence" not in _results(client, created.json()["id"])[0]


def test_bad_uploads_and_unknown_jobs_are_4xx(trained_home: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs")) as client:
        assert _upload(client, tmp_path / "notes.pdf").status_code == 415
        assert (
            client.post("/v1/jobs", content=b"x", headers={**auth(), "content-type": "text/plain"}).status_code == 415
        )
        assert client.get("/v1/jobs/nope").status_code == 404
        assert client.delete("/v1/jobs/nope", headers=auth()).status_code == 404


def test_cancel_stops_a_running_job_and_discards_it(trained_home: Path, tmp_path: Path) -> None:
    archive = write_articles(tmp_path / "news.jsonl", articles(400))
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_chunk_size=2)) as client:
        job_id = _upload(client, archive).json()["id"]
        _wait(client, job_id, until=("running",))
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 401
        cancelled = client.delete(f"/v1/jobs/{job_id}", headers=auth())
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        deadline = time.monotonic() + 30
        while (tmp_path / "jobs" / job_id).exists():
            assert time.monotonic() < deadline, "the worker discards a cancelled job's files"
            time.sleep(0.02)
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["state"] == "cancelled" and job["progress"]["done"] < 400
        assert client.get(f"/v1/jobs/{job_id}/results").status_code == 409


def test_unfinished_jobs_resume_after_a_restart(trained_home: Path, predictor: Predictor, tmp_path: Path) -> None:
    archive = write_articles(tmp_path / "news.jsonl", articles(300))
    settings = make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_chunk_size=2)
    with serving(settings) as client:
        job_id = _upload(client, archive).json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/v1/jobs/{job_id}").json()["progress"]["done"] < 10:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    stopped = JobStore(tmp_path / "jobs" / "jobs.sqlite3").get(job_id)
    assert stopped is not None and stopped.state == "queued" and 10 <= stopped.consumed < 300, stopped
    with serving(settings, ready=False) as client:
        job = _wait(client, job_id)
        assert job["state"] == "done" and job["progress"]["done"] == 300
        got = _results(client, job_id)
    expected = tmp_path / "expected.jsonl"
    score_archive(archive, expected, LocalScorer(predictor), ScoreOptions(chunk_size=2))
    want = read_jsonl(expected)
    assert [r["id"] for r in got] == [r["id"] for r in want], "no duplicate and no missing row"
    for a, b in zip(got, want, strict=True):
        assert a["labels"] == b["labels"] and a["stance"] == b["stance"]
        assert a["scores"] == b["scores"]
