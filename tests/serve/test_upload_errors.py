"""Uploads with the wrong JSON type or an odd CSV: a skip or a 4xx that names the fix, never a 500 or a traceback;
nothing of a refused upload is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelens.serve.cli import main
from tests.serve.conftest import auth, make_settings, serving

TEXT = "Ceasefire talks resumed in geneva. In Ukraine the brave defenders held firm."


def task(task_id: int, choices: object) -> dict[str, object]:
    result = {"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": choices}}
    return {"id": task_id, "data": {"text": f"{TEXT} ({task_id})"}, "annotations": [{"result": [result]}]}


def test_a_label_studio_number_for_choices_is_a_skipped_unreadable_answer(home: Path) -> None:
    with serving(make_settings(home)) as client:
        mixed = [task(1, ["negotiation"]), task(2, 3)]
        imported = client.post("/v1/examples/import?format=labelstudio", json=mixed, headers=auth())
        assert imported.status_code == 200, imported.text
        body = imported.json()
        assert body["kept"] == 1 and body["skipped_by_reason"] == {"unreadable answer": 1}, body
        assert body["skipped_items"][0]["where"] == "task 2"
        only_bad = client.post("/v1/examples/import?format=labelstudio", json=[task(3, 3)], headers=auth())
        assert only_bad.status_code == 422, only_bad.text
        assert any("unreadable answer" in p for p in only_bad.json()["problems"])
        values = [{"fields": {"text": TEXT}, "responses": [{"user_id": "u", "values": "frames"}]}]
        argilla = client.post("/v1/examples/import?format=argilla", json=values, headers=auth())
        assert argilla.status_code == 422 and "unreadable answer" in json.dumps(argilla.json()), argilla.text
        assert client.get("/v1/examples/stats").json()["total"] == 1, "only the readable task was stored"


def test_the_cli_reports_the_skip_instead_of_a_traceback(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task(1, ["negotiation"]), task(2, 3)]), encoding="utf-8")
    assert main(["--home", str(home), "examples", "import", str(export), "--format", "labelstudio"]) == 0
    assert "skipped task 2: unreadable answer" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/v1/examples", 'id,text,frames,fold\rcr-1,"Talks resumed.",negotiation,1\rcr-2,"Aid came.",,1\r'),
        ("/v1/examples", "id,text,frames,fold\nsup-1,Talks resumed.,negotiation,\u00b2\n"),
        ("/v1/examples/import?format=labelstudio-csv", 'id,text,frames,annotation_id\r1,"Talks.",negotiation,1\r'),
        ("/v1/suggestions", 'id,text\rs-1,"Talks resumed."\rs-2,"Aid arrived."\r'),
    ],
)
def test_odd_csv_uploads_are_read_or_refused_never_a_500(home: Path, route: str, body: str) -> None:
    with serving(make_settings(home)) as client:
        response = client.post(route, content=body.encode(), headers={**auth(), "Content-Type": "text/csv"})
        assert response.status_code in (200, 422), response.text
        assert response.json(), "a JSON body either way"
        if response.status_code == 422:
            assert response.json()["problems"], response.json()


@pytest.mark.parametrize(
    ("route", "kind"),
    [
        ("/v1/examples", "application/json"),
        ("/v1/examples", "application/x-ndjson"),
        ("/v1/examples/import?format=labelstudio", "application/json"),
        ("/v1/examples/import?format=argilla", "application/x-ndjson"),
        ("/v1/suggestions", "application/json"),
        ("/v1/suggestions", "application/x-ndjson"),
        ("/v1/classify", "application/json"),
        ("/v1/jobs", "application/json"),
    ],
)
def test_json_nested_too_deeply_is_a_4xx(home: Path, route: str, kind: str) -> None:
    with serving(make_settings(home)) as client:
        response = client.post(route, content=b"[" * 100_000, headers={**auth(), "Content-Type": kind})
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["detail"]
