"""Nothing blocking runs on the event loop: SQLite (examples, scoring jobs, retrain jobs) and starting the retrain
process happen in worker threads, so one slow disk or fork never stalls every other request."""

from __future__ import annotations

import asyncio
import sqlite3
import traceback
from pathlib import Path
from typing import Any

import pytest

from framelens.serve import retraining
from tests.fixtures import tiny_rows
from tests.serve.conftest import auth, make_settings, serving
from tests.serve.scoring.conftest import articles, write_articles


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class FakeChild:
    """Stands in for the retrain process: it exits at once with status 1 (the job is then marked failed)."""

    pid = 4_000_000
    returncode = 1

    def poll(self) -> int:
        return 1

    def wait(self, timeout: float | None = None) -> int:
        return 1

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


def test_sqlite_and_process_start_stay_off_the_event_loop(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocking: list[str] = []
    connect = sqlite3.connect

    def watched_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if _on_the_loop():
            blocking.append("sqlite3.connect\n" + "".join(traceback.format_stack(limit=8)))
        return connect(*args, **kwargs)

    def watched_popen(*args: Any, **kwargs: Any) -> FakeChild:
        if _on_the_loop():
            blocking.append("subprocess.Popen\n" + "".join(traceback.format_stack(limit=8)))
        return FakeChild()

    monkeypatch.setattr(sqlite3, "connect", watched_connect)
    monkeypatch.setattr(retraining.subprocess, "Popen", watched_popen)
    root = tmp_path / "root"
    root.mkdir()
    write_articles(root / "a.jsonl", articles(2))
    rows = tiny_rows(2)
    for row in rows:
        row["id"] = "loop-" + row["id"]
    settings = make_settings(home, jobs_dir=tmp_path / "jobs", jobs_root=root, suggest_pool=root / "a.jsonl")
    with serving(settings) as client:
        job = client.post("/v1/jobs", json={"path": "a.jsonl"}, headers=auth())
        assert job.status_code == 202, job.text
        with (root / "a.jsonl").open("rb") as handle:
            upload = client.post("/v1/jobs", files={"file": ("b.jsonl", handle)}, headers=auth())
        assert upload.status_code == 202, upload.text
        assert client.get(f"/v1/jobs/{job.json()['id']}").status_code == 200
        assert client.delete(f"/v1/jobs/{upload.json()['id']}", headers=auth()).status_code == 200
        assert client.post("/v1/examples", json=rows, headers=auth()).status_code == 200
        task = {"data": {"text": "Talks resumed in geneva."}, "annotations": [{"result": []}]}
        imported = client.post("/v1/examples/import?format=labelstudio", json=[task], headers=auth())
        assert imported.status_code == 200, imported.text
        assert client.get("/v1/examples/stats").status_code == 200
        assert client.get("/v1/suggestions?n=1").status_code == 200
        posted = client.post(
            "/v1/suggestions?n=1", content="One passage.", headers={**auth(), "content-type": "text/plain"}
        )
        assert posted.status_code == 200, posted.text
        train = client.post("/v1/train", json={"epochs": 1}, headers=auth())
        assert train.status_code == 202, train.text
        assert client.get("/v1/train").status_code == 200
        assert client.get(f"/v1/train/{train.json()['id']}").status_code == 200
    assert not blocking, "\n\n".join(blocking)
