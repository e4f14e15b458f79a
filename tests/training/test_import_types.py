"""Exports with a wrong JSON type where a list, object or string belongs: a skip or a DataError, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest

from framelens.model.errors import DataError
from framelens.training.imports import import_labels
from tests.fixtures import TINY_SCHEME

TEXT = "Ceasefire talks resumed in geneva. In Ukraine the brave defenders held firm."
WRONG = [3, 2.5, True, None, {"a": 1}, ["x", 1], "frames", [["nested"]]]


def ls_result(choices: Any, name: str = "frames") -> dict[str, Any]:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": choices}}


def ls_export(**task: Any) -> str:
    return json.dumps([{"id": 1, "data": {"text": TEXT}, **task}])


def reasons(content: str, fmt: str) -> list[str]:
    try:
        report = import_labels(content, fmt, TINY_SCHEME, "export")
    except DataError:
        return ["DataError"]
    return [s.reason for s in report.skipped] + [f"kept {r.get('id')}" for _, r in report.rows]


@pytest.mark.parametrize("choices", [3, 2.5, True, {"a": 1}, ["x", 1], [["nested"]]])
def test_label_studio_choices_of_the_wrong_type_are_unreadable_answers(choices: Any) -> None:
    export = ls_export(annotations=[{"result": [ls_result(choices)]}])
    (reason,) = reasons(export, "labelstudio")
    assert reason.startswith("unreadable answer"), reason
    assert "frames" in reason


def test_label_studio_a_choice_as_a_plain_string_is_one_label() -> None:
    export = ls_export(annotations=[{"result": [ls_result("negotiation")]}])
    assert reasons(export, "labelstudio") == ["kept ls-1"]


@pytest.mark.parametrize("wrong", WRONG)
@pytest.mark.parametrize("field", ["annotations", "completions", "result", "value", "data", "text", "passage_id"])
def test_label_studio_json_never_crashes_on_a_wrong_type(field: str, wrong: Any) -> None:
    annotation: dict[str, Any] = {"result": [ls_result(["negotiation"])]}
    task: dict[str, Any] = {"id": 1, "data": {"text": TEXT}, "annotations": [annotation]}
    if field in ("annotations", "completions"):
        task.pop("annotations")
        task[field] = wrong
    elif field == "result":
        annotation["result"] = wrong
    elif field == "value":
        annotation["result"] = [{"from_name": "frames", "value": wrong}]
    elif field == "data":
        task["data"] = wrong
    else:
        task["data"][field] = wrong
    found = reasons(json.dumps([task]), "labelstudio")
    assert found, "every task is kept or skipped with a reason"
    if field == "passage_id" and wrong not in (None,) and not isinstance(wrong, (int, float, str)):
        assert found[0].startswith("unreadable answer") and "passage_id" in found[0], found


@pytest.mark.parametrize("wrong", WRONG)
@pytest.mark.parametrize("field", ["frames", "stance_Ukraine", "id", "annotation_id", "text", "passage_id"])
def test_label_studio_json_min_never_crashes_on_a_wrong_type(field: str, wrong: Any) -> None:
    record: dict[str, Any] = {"id": 1, "text": TEXT, "annotation_id": 5, "frames": {"choices": ["negotiation"]}}
    record[field] = wrong
    assert reasons(json.dumps([record]), "labelstudio-min")


@pytest.mark.parametrize("wrong", WRONG)
@pytest.mark.parametrize("field", ["records", "fields", "responses", "values", "value", "metadata", "id"])
def test_argilla_never_crashes_on_a_wrong_type(field: str, wrong: Any) -> None:
    response: dict[str, Any] = {
        "user_id": "u1",
        "status": "submitted",
        "values": {"frames": {"value": ["negotiation"]}},
    }
    record: dict[str, Any] = {"id": "r1", "fields": {"text": TEXT}, "responses": [response], "metadata": {"a": 1}}
    data: Any = {"records": [record]}
    if field == "records":
        data = {"records": wrong}
    elif field == "values":
        response["values"] = wrong
    elif field == "value":
        response["values"] = {"frames": {"value": wrong}}
    else:
        record[field] = wrong
    found = reasons(json.dumps(data), "argilla")
    assert found
    if field == "values" and wrong is not None and not isinstance(wrong, dict):
        assert found[0].startswith("unreadable answer"), found


@pytest.mark.parametrize("wrong", WRONG)
def test_argilla_v2_never_crashes_on_a_wrong_type(wrong: Any) -> None:
    for responses in ({"frames": wrong}, {"frames": [wrong]}, {"frames": [{"value": wrong, "user_id": "u"}]}):
        record = {"id": "r1", "fields": {"text": TEXT}, "responses": responses}
        assert reasons(json.dumps([record]), "argilla")


def test_label_studio_csv_with_odd_cells_and_a_huge_field_never_crashes() -> None:
    rows = ["id,text,frames,annotation_id", f'1,{TEXT},"{{""choices"": 3}}",1', f'2,{TEXT},"[1, 2]",2']
    found = reasons("\n".join(rows) + "\n", "labelstudio-csv")
    assert [r.split(":")[0] for r in found] == ["unreadable answer", "unreadable answer"]
    huge = "id,text,frames,annotation_id\n" + f'1,"{"x" * 300_000}",negotiation,1\n'
    assert reasons(huge, "labelstudio-csv")
