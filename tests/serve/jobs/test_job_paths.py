"""Server-side job paths: a path the file system cannot use is a 4xx naming it, and links never lead out of the root."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import auth, make_settings, serving
from tests.serve.scoring.conftest import articles, write_articles


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    write_articles(root / "in" / "a.jsonl", articles(2))
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("The outside file must never be read.", encoding="utf-8")
    write_articles(tmp_path / "outside" / "b.jsonl", articles(2))
    return root


def _wait(client: TestClient, job_id: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def _refused(response: Any, *statuses: int) -> dict[str, str]:
    assert response.status_code in statuses, response.text
    body: dict[str, str] = response.json()
    assert set(body) == {"error", "detail"} and body["detail"], body
    return body


def test_unusable_paths_are_4xx_naming_the_problem(trained_home: Path, tmp_path: Path, root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    (root / "ping").symlink_to(root / "pong")
    (root / "pong").symlink_to(root / "ping")
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_root=root)) as client:

        def post(path: str) -> Any:
            return client.post("/v1/jobs", json={"path": path}, headers=auth())

        long = _refused(post("a" * 300), 400, 422)
        assert "too long" in long["detail"] and "shorter" in long["detail"], long
        long_part = _refused(post("in/" + "b" * 300 + "/x.jsonl"), 400, 422)
        assert "too long" in long_part["detail"], long_part
        assert "too long" in _refused(post("a/" * 2040), 400, 422)["detail"], "the whole path is over PATH_MAX"
        for looped in ("loop", "ping", "loop/a.jsonl"):
            body = _refused(post(looped), 400, 422)
            assert "link" in body["detail"], body
        assert _refused(post("in/a.jsonl/inner.jsonl"), 400, 404, 422)["detail"]
        assert _refused(post("in/\x00.jsonl"), 400, 422)["detail"]
        assert post("in/a.jsonl").status_code == 202, "the service still takes good paths"


def test_links_out_of_the_root_are_refused(trained_home: Path, tmp_path: Path, root: Path) -> None:
    (root / "out.jsonl").symlink_to(tmp_path / "outside" / "b.jsonl")
    (root / "outdir").symlink_to(tmp_path / "outside")
    (root / "in" / "ok.jsonl").symlink_to(root / "in" / "a.jsonl")
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_root=root)) as client:
        for path in ("out.jsonl", "outdir", "outdir/b.jsonl", "in/../outdir/secret.txt"):
            body = _refused(client.post("/v1/jobs", json={"path": path}, headers=auth()), 403)
            assert body["error"] == "path_outside_root", (path, body)
        inside = client.post("/v1/jobs", json={"path": "in/ok.jsonl"}, headers=auth())
        assert inside.status_code == 202, "a link that stays inside the root is fine"
        assert _wait(client, inside.json()["id"])["counts"]["scored"] == 2


def test_a_folder_job_skips_members_that_link_out_of_the_root(trained_home: Path, tmp_path: Path, root: Path) -> None:
    folder = root / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("Ceasefire talks resumed in geneva.", encoding="utf-8")
    (folder / "b.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (folder / "c.jsonl").symlink_to(root / "in" / "a.jsonl")  # a link inside the root is read
    (folder / "d.txt").symlink_to(folder / "d.txt")  # a link to itself: an error row, not a crash
    with serving(make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_root=root)) as client:
        created = client.post("/v1/jobs", json={"path": "folder"}, headers=auth())
        assert created.status_code == 202, created.text
        job = _wait(client, created.json()["id"])
        assert job["state"] == "done", job
        assert job["counts"] == {"scored": 3, "errors": 2, "windows": job["counts"]["windows"]}
        errors = {e["where"]: e["reason"] for e in job["errors"]}
        assert set(errors) == {"b.txt", "d.txt"}, errors
        assert "outside the jobs root" in errors["b.txt"]
        results = client.get(f"/v1/jobs/{created.json()['id']}/results").text
    texts = [json.loads(line).get("id") for line in results.splitlines()]
    assert "b.txt" not in texts and "The outside file" not in results
