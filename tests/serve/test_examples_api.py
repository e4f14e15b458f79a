"""Labelled examples over HTTP and the CLI: stored whole or refused whole with line numbers; imports; export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelens.serve.cli import main
from tests.fixtures import tiny_rows
from tests.serve.conftest import auth, make_settings, serving

TEXT = "Ceasefire talks resumed in geneva. In Ukraine the brave defenders held firm."


def fresh_rows(n: int) -> list[dict]:
    rows = tiny_rows(n)
    for row in rows:  # the seeds' own ids are read-only
        row["id"] = "u-" + row["id"]
    return rows


def test_uploads_are_all_or_nothing_with_line_numbers(home: Path) -> None:
    with serving(make_settings(home)) as client:
        ok = client.post("/v1/examples", json=fresh_rows(5), headers=auth())
        assert ok.status_code == 200, ok.text
        assert ok.json() | {"upload": ""} == {"upload": "", "added": 5, "replaced": 0, "total": 5}

        bad = fresh_rows(8)[5:]
        bad[1]["frames"] = ["militry_aid"]
        body = "".join(json.dumps(r) + "\n" for r in bad) + '{"text": ""}\n'
        refused = client.post("/v1/examples", content=body, headers={**auth(), "Content-Type": "application/x-ndjson"})
        assert refused.status_code == 422 and refused.json()["error"] == "invalid_examples"
        problems = refused.json()["problems"]
        assert "upload:2: field 'frames': unknown frame 'militry_aid'; did you mean 'military_aid'?" in problems
        assert any(p.startswith("upload:4: field 'text'") for p in problems)
        assert client.get("/v1/examples/stats").json()["total"] == 5, "nothing of a refused upload is stored"

        seed = client.post("/v1/examples", json=tiny_rows(1), headers=auth())
        assert seed.status_code == 422 and "the id of a seed passage" in seed.json()["problems"][0]
        other = fresh_rows(1)
        other[0]["stance"] = {"NATO": "favor"}
        refused_target = client.post("/v1/examples", json=other, headers=auth())
        assert refused_target.status_code == 422, "the active model reads Ukraine and Russia only"
        assert "target 'NATO' is not one the active model reads (Ukraine, Russia)" in refused_target.text

        csv = 'id,text,frames,stance\nc-1,"Talks resumed, finally.",negotiation,Ukraine=favor\n'
        assert (
            client.post("/v1/examples", content=csv, headers={**auth(), "Content-Type": "text/csv"}).status_code == 200
        )
        upload = {"file": ("more.jsonl", json.dumps(fresh_rows(7)[6]) + "\n", "application/octet-stream")}
        assert client.post("/v1/examples", files=upload, headers=auth()).json()["added"] == 1

        assert client.post("/v1/examples", json=fresh_rows(1)).status_code == 401
        assert (
            client.post("/v1/examples", content=b"x", headers={**auth(), "Content-Type": "image/png"}).status_code
            == 415
        )

        exported = client.get("/v1/examples")
        assert exported.headers["content-type"].startswith("application/x-ndjson")
        ids = [json.loads(line)["id"] for line in exported.text.splitlines()]
        assert ids == [f"u-t-00{i}" for i in range(5)] + ["c-1", "u-t-006"]
        stats = client.get("/v1/examples/stats").json()
        assert stats["total"] == 7 and stats["frames"]["negotiation"] >= 2 and "Ukraine" in stats["stance"]


def test_label_studio_import_through_the_api_reports_skips(home: Path) -> None:
    tasks = [
        {
            "id": 1,
            "data": {"text": TEXT},
            "annotations": [
                {
                    "result": [
                        {
                            "from_name": "frames",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["negotiation"]},
                        },
                        {
                            "from_name": "stance_Ukraine",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["favor"]},
                        },
                    ]
                }
            ],
        },
        {"id": 2, "data": {"text": TEXT + " Two."}, "annotations": [{"was_cancelled": True, "result": []}]},
    ]
    with serving(make_settings(home)) as client:
        response = client.post("/v1/examples/import?format=labelstudio", json=tasks, headers=auth())
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["kept"] == 1 and body["skipped_by_reason"] == {"cancelled": 1}
        assert body["stored"]["added"] == 1
        nothing = client.post("/v1/examples/import?format=labelstudio", json=tasks[1:], headers=auth())
        assert nothing.status_code == 422 and "task 2: cancelled" in " ".join(nothing.json()["problems"])
        wrong = client.post("/v1/examples/import?format=prodigy", json=tasks, headers=auth())
        assert wrong.status_code == 422


def test_the_cli_adds_imports_and_exports(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "new.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in fresh_rows(3)), encoding="utf-8")
    assert main(["--home", str(home), "examples", "add", str(data)]) == 0
    assert "stored 3 new" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "b1", "text": "x", "frames": ["nope"]}\n', encoding="utf-8")
    assert main(["--home", str(home), "examples", "add", str(bad)]) == 2
    assert f"{bad}:1: field 'frames': unknown frame 'nope'" in capsys.readouterr().err
    minimal = tmp_path / "min.json"
    minimal.write_text(json.dumps([{"id": 9, "text": TEXT, "frames": "military_aid", "annotation_id": 1}]))
    assert main(["--home", str(home), "examples", "import", str(minimal), "--format", "labelstudio-min"]) == 0
    out = tmp_path / "all.jsonl"
    assert main(["--home", str(home), "examples", "export", "-o", str(out)]) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()][-1] == "ls-9"
    assert main(["--home", str(home), "examples", "label-config"]) == 0
    assert 'name="stance_Russia"' in capsys.readouterr().out
