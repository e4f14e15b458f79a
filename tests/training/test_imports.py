"""Label Studio (JSON, JSON_MIN, CSV) and Argilla (v1, v2) exports map to the scheme; skipped items say why."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from framelens.training.imports import import_labels
from framelens.training.imports.labelstudio import label_config
from framelens.training.store import check_rows
from tests.fixtures import TINY_SCHEME

TEXT = "Ceasefire talks resumed in geneva. In Ukraine the brave defenders held firm."


def choice(name: str, *labels: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(labels)}}


def ls_task(task_id: int, text: str | None, annotations: list[dict[str, Any]], **data: Any) -> dict[str, Any]:
    return {"id": task_id, "data": {"text": text, **data}, "annotations": annotations}


def test_label_studio_json_maps_choices_and_reports_what_it_skipped() -> None:
    good = {"id": 1, "result": [choice("frames", "negotiation", "humanitarian"), choice("stance_Ukraine", "favor")]}
    tasks = [
        ls_task(1, TEXT, [good], passage_id="p-1", date="2024-01-02"),
        ls_task(2, TEXT + " Again.", [{"result": [choice("stance_Russia", "against"), choice("mood", "x")]}]),
        ls_task(3, TEXT, []),
        ls_task(4, TEXT, [{"was_cancelled": True, "result": [choice("frames", "negotiation")]}]),
        ls_task(5, "  ", [good]),
        ls_task(6, TEXT + " More.", [{"result": [choice("frames", "negotiations")]}]),
        ls_task(
            7,
            TEXT + " Reviewed.",
            [
                {"result": [choice("frames", "military_aid")], "created_at": "2024-05-01"},
                {"result": [choice("frames", "humanitarian")], "created_at": "2024-01-01", "ground_truth": True},
            ],
        ),
    ]
    report = import_labels(json.dumps(tasks), "labelstudio", TINY_SCHEME, "export.json")
    rows = {r["id"]: r for _, r in report.rows}
    assert rows["p-1"]["frames"] == ["negotiation", "humanitarian"] and rows["p-1"]["stance"] == {"Ukraine": "favor"}
    assert rows["p-1"]["date"] == "2024-01-02"
    assert rows["ls-2"]["frames"] == [], "a submitted annotation that ticks no frame means no frame"
    assert rows["ls-7"]["frames"] == ["humanitarian"], "a reviewer's ground truth wins over a newer annotation"
    reasons = {s.where: s.reason.split(":")[0] for s in report.skipped}
    assert reasons == {"task 3": "no annotation", "task 4": "cancelled", "task 5": "no text", "task 6": "unknown label"}
    assert "nearest: 'negotiation'" in next(s.reason for s in report.skipped if s.where == "task 6")
    assert report.ignored_controls == {"mood": 1}
    assert len(check_rows(report.rows, TINY_SCHEME, "export.json")) == 3


def test_label_studio_json_min_and_csv() -> None:
    records = [
        {
            "id": 11,
            "text": TEXT,
            "frames": {"choices": ["negotiation", "military_aid"]},
            "stance_Russia": "against",
            "annotation_id": 5,
            "annotator": 1,
        },
        {"id": 11, "text": TEXT, "frames": "humanitarian", "annotation_id": 4},
        {"id": 12, "text": TEXT + " Two.", "frames": "military_aid", "annotation_id": 6, "source": "wire"},
        {"id": 13, "text": TEXT + " Three."},
        {"id": 14, "text": TEXT + " Four.", "stance_Ukraine": "maybe", "annotation_id": 7},
    ]
    report = import_labels(json.dumps(records), "labelstudio-min", TINY_SCHEME, "min.json")
    rows = {r["id"]: r for _, r in report.rows}
    assert rows["ls-11"]["frames"] == ["negotiation", "military_aid"] and rows["ls-11"]["stance"] == {
        "Russia": "against"
    }
    assert rows["ls-12"] == {"id": "ls-12", "text": TEXT + " Two.", "source": "wire", "frames": ["military_aid"]}
    assert [s.reason.split(":")[0] for s in report.skipped] == ["another annotation", "no annotation", "unknown label"]

    out = io.StringIO()
    columns = ["annotation_id", "annotator", "frames", "id", "lead_time", "stance_Ukraine", "text", "was_cancelled"]
    writer = csv.DictWriter(out, fieldnames=columns, quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    writer.writerow(
        {
            "annotation_id": 1,
            "id": 21,
            "text": TEXT,
            "frames": '{"choices": ["negotiation", "humanitarian"]}',
            "stance_Ukraine": "favor",
            "was_cancelled": False,
        }
    )
    writer.writerow(
        {"annotation_id": 2, "id": 22, "text": TEXT + " B.", "frames": "military_aid", "was_cancelled": True}
    )
    writer.writerow({"annotation_id": 3, "id": 23, "text": "", "frames": "military_aid", "was_cancelled": False})
    report = import_labels(out.getvalue(), "labelstudio-csv", TINY_SCHEME, "ls.csv")
    assert [r for _, r in report.rows] == [
        {"id": "ls-21", "text": TEXT, "frames": ["negotiation", "humanitarian"], "stance": {"Ukraine": "favor"}}
    ]
    assert [s.reason.split(":")[0] for s in report.skipped] == ["cancelled", "no text"]


def test_argilla_v1_and_v2_records() -> None:
    v1 = [
        {
            "fields": {"text": TEXT},
            "external_id": "a-1",
            "metadata": {"date": "2024-02-02"},
            "responses": [
                {
                    "user_id": "u1",
                    "status": "submitted",
                    "values": {"frames": {"value": ["negotiation"]}, "stance_Ukraine": {"value": "favor"}},
                }
            ],
        },
        {
            "fields": {"text": TEXT + " Two."},
            "external_id": "a-2",
            "responses": [{"user_id": "u1", "status": "discarded", "values": {}}],
        },
        {"fields": {"text": TEXT + " Three."}, "external_id": "a-3", "responses": []},
    ]
    report = import_labels(json.dumps(v1), "argilla", TINY_SCHEME, "v1.json")
    assert [r for _, r in report.rows] == [
        {"text": TEXT, "date": "2024-02-02", "frames": ["negotiation"], "stance": {"Ukraine": "favor"}, "id": "a-1"}
    ]
    assert [s.reason.split(":")[0] for s in report.skipped] == ["cancelled", "no annotation"]
    v2 = [
        {
            "id": "b-1",
            "fields": {"text": TEXT},
            "metadata": {},
            "suggestions": {"frames": {"value": ["victory"]}},
            "responses": {
                "frames": [{"value": ["military_aid", "humanitarian"], "user_id": "u2"}],
                "stance_Russia": [{"value": "against", "user_id": "u2"}],
            },
        },
        {
            "id": "b-2",
            "fields": {"text": TEXT + " Draft."},
            "responses": {"frames": [{"value": ["military_aid"], "user_id": "u2", "status": "draft"}]},
        },
        {
            "id": "b-3",
            "fields": {"text": TEXT + " Odd."},
            "responses": {"frames": [{"value": ["tanks"], "user_id": "u"}]},
        },
    ]
    lines = "".join(json.dumps(r) + "\n" for r in v2)  # JSON Lines is read too
    report = import_labels(lines, "argilla", TINY_SCHEME, "v2.jsonl")
    assert [r for _, r in report.rows] == [
        {"text": TEXT, "frames": ["military_aid", "humanitarian"], "stance": {"Russia": "against"}, "id": "b-1"}
    ]
    assert [s.reason.split(":")[0] for s in report.skipped] == ["no annotation", "unknown label"]


def test_the_label_config_names_the_controls_the_imports_read() -> None:
    config = label_config(TINY_SCHEME)
    assert '<Choices name="frames" toName="text" choice="multiple"' in config
    assert '<Choices name="stance_Ukraine" toName="text" choice="single"' in config
    assert all(f'<Choice value="{f}"' in config for f in TINY_SCHEME.frame_names)
