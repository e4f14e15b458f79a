"""What to label next, over HTTP (a configured pool or an upload) and from the CLI, in a labelling tool's format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelens.serve.cli import main
from tests.serve.conftest import auth, make_settings, serving

POOL = [
    "Ceasefire talks resumed in geneva.",
    "Refugees crossed the border at night.",
    "A new weapons package arrived.",
    "An unrelated weather report about rain in the city.",
    "Diplomats discussed a peace settlement while civilians fled the shelled city.",
    "Allies pledged more ammunition. In Ukraine the brave defenders held firm.",
    "About Russia officials reported the figures.",
]


@pytest.fixture()
def pool(tmp_path: Path) -> Path:
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({"id": f"a-{i}", "text": t}) + "\n" for i, t in enumerate(POOL)))
    return path


def test_suggestions_from_the_pool_and_from_an_upload(home: Path, pool: Path) -> None:
    with serving(make_settings(home)) as client:
        assert client.get("/v1/suggestions").status_code == 409, "no pool configured"
    with serving(make_settings(home, suggest_pool=pool)) as client:
        tasks = client.get("/v1/suggestions?n=3").json()
        assert len(tasks) == 3 and len({t["data"]["passage_id"] for t in tasks}) == 3
        assert {t["data"]["text"] for t in tasks} <= set(POOL)
        assert tasks[0]["predictions"][0]["model_version"] and 0.0 <= tasks[0]["data"]["uncertainty"] <= 1.0
        lines = client.get("/v1/suggestions?n=2&format=jsonl")
        assert lines.headers["content-type"].startswith("application/x-ndjson")
        assert len(lines.text.splitlines()) == 2

        stored = {"id": "a-0", "text": POOL[0], "frames": ["negotiation"]}
        assert client.post("/v1/examples", json=[stored], headers=auth()).status_code == 200
        everything = client.get("/v1/suggestions?n=50").json()
        assert len(everything) == len(POOL) - 1, "a passage already labelled is not suggested again"

        plain = {"Content-Type": "text/plain", **auth()}  # the caller picks what is scored: a write route
        upload = client.post("/v1/suggestions?n=2", content="\n".join(POOL), headers=plain)
        assert upload.status_code == 200 and len(upload.json()) == 2


def test_the_cli_writes_label_studio_tasks(home: Path, pool: Path, tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    assert main(["--home", str(home), "suggest", str(pool), "-n", "4", "-o", str(out), "--threads", "1"]) == 0
    tasks = json.loads(out.read_text())
    assert len(tasks) == 4 and all(t["data"]["passage_id"].startswith("a-") for t in tasks)
    assert all(r["type"] == "choices" for t in tasks for r in t["predictions"][0]["result"])
