"""The labelled-data store: an upload is checked whole and stored whole, or refused with every problem's line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelens.model.errors import DataError
from framelens.training.store import ExampleStore, parse_upload, reject_reserved_ids, seed_ids
from tests.fixtures import TINY_SCHEME, tiny_rows


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_bad_upload_is_refused_whole_with_line_numbers(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add(parse_upload(jsonl(tiny_rows(4)), ".jsonl", TINY_SCHEME, "first.jsonl"), TINY_SCHEME, "first.jsonl")
    rows = tiny_rows(10)[4:]
    rows[1]["frames"] = ["negotiaton"]
    rows[4]["stance"] = {"Ukraine": "pro"}
    with pytest.raises(DataError) as caught:
        parse_upload(jsonl(rows) + '{"id": "x", "text": \n', ".jsonl", TINY_SCHEME, "up.jsonl")
    problems = caught.value.problems
    assert "up.jsonl:2: field 'frames': unknown frame 'negotiaton'; did you mean 'negotiation'?" in problems
    assert any(p.startswith("up.jsonl:5: field 'stance.Ukraine'") for p in problems)
    assert any(p.startswith("up.jsonl:7: broken JSON") for p in problems)
    assert store.count() == 4, "nothing of the refused upload was stored"


def test_json_list_and_csv_uploads_store_and_export_round_trip(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    listed = json.dumps(tiny_rows(3))
    first = store.add(parse_upload(listed, ".json", TINY_SCHEME, "a.json"), TINY_SCHEME, "a.json")
    assert (first.added, first.replaced, first.total) == (3, 0, 3)
    csv = 'id,text,frames,stance\nt-001,"Talks resumed, finally.",negotiation,Ukraine=favor;Russia=neutral\n'
    again = store.add(parse_upload(csv, ".csv", TINY_SCHEME, "b.csv"), TINY_SCHEME, "b.csv")
    assert (again.added, again.replaced, again.total) == (0, 1, 3), "a known id is relabelled, not duplicated"
    exported = [json.loads(line) for line in store.export_jsonl()]
    assert [r["id"] for r in exported] == ["t-000", "t-001", "t-002"]
    assert exported[1]["frames"] == ["negotiation"] and exported[1]["stance"]["Ukraine"] == "favor"
    again_parsed = parse_upload("".join(store.export_jsonl()), ".jsonl", TINY_SCHEME, "export")
    assert len(again_parsed) == 3, "the export reads back as an upload"
    stats = store.stats(TINY_SCHEME)
    assert stats["total"] == 3 and set(stats["frames"]) == set(TINY_SCHEME.frame_names)
    assert stats["frames"]["negotiation"] >= 1 and sum(stats["stance"]["Ukraine"].values()) == 3


def test_the_store_checks_its_rows_again_against_a_changed_scheme(tmp_path: Path) -> None:
    from framelens.model.scheme import Frame, Scheme

    store = ExampleStore(tmp_path)
    store.add(parse_upload(jsonl(tiny_rows(3)), ".jsonl", TINY_SCHEME, "a"), TINY_SCHEME, "a")
    other = Scheme("other", frames=(Frame("economic"),))
    with pytest.raises(DataError, match="unknown frame"):
        store.examples(other)
    assert len(store.examples(TINY_SCHEME)) == 3


def test_seed_ids_are_read_only(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(jsonl(tiny_rows(5)), encoding="utf-8")
    items = parse_upload(jsonl(tiny_rows(7)[4:]), ".jsonl", TINY_SCHEME, "up")
    with pytest.raises(DataError) as caught:
        reject_reserved_ids(items, seed_ids([str(seeds)]), "up", "the id of a seed passage")
    assert caught.value.problems == [
        "up:1: field 'id': 't-004' is the id of a seed passage; give this passage another id"
    ]
