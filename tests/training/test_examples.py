from __future__ import annotations

from pathlib import Path

import pytest

from framelens.model.errors import DataError
from framelens.training.examples import load_examples
from framelens.training.splits import split_examples
from tests.fixtures import TINY_SCHEME


def test_every_problem_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "a", "text": "Talks resumed.", "frames": ["negotiaton"]}\n'
        '{"id": "b", "text": "   ", "frames": []}\n'
        '{"id": "c", "text": "Broken\n'
        '{"id": "a", "text": "Again.", "frames": []}\n'
        '{"id": "e", "text": "Aid.", "stance": {"Ukraine": "pro"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        load_examples(path, TINY_SCHEME)
    problems = caught.value.problems
    assert len(problems) == 5
    assert f"{path}:1: field 'frames': unknown frame 'negotiaton'; did you mean 'negotiation'?" in problems
    assert any(p.startswith(f"{path}:2: field 'text'") for p in problems)
    assert any(p.startswith(f"{path}:3: broken JSON") for p in problems)
    assert any(p.startswith(f"{path}:4: field 'id': duplicate id 'a'") for p in problems)
    assert any(p.startswith(f"{path}:5: field 'stance.Ukraine'") for p in problems)


def test_csv_with_the_same_columns(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "id,text,frames,stance,date\n"
        'x1,"Talks resumed, finally.",negotiation;humanitarian,Ukraine=favor;Russia=neutral,2023-01-01\n'
        'x2,Weather report.,,"{""Ukraine"": ""neutral""}",2023-01-02\n',
        encoding="utf-8",
    )
    rows = load_examples(path, TINY_SCHEME)
    assert rows[0].frames == ("negotiation", "humanitarian")
    assert rows[0].stance == {"Ukraine": "favor", "Russia": "neutral"}
    assert rows[1].frames == () and rows[1].stance == {"Ukraine": "neutral"}
    assert rows[0].meta == {"date": "2023-01-01"}


def test_split_is_deterministic_and_honours_the_split_field(tmp_path: Path) -> None:
    lines = [f'{{"id": "r{i}", "text": "t {i}", "frames": []}}' for i in range(300)]
    lines.append('{"id": "pinned", "text": "frozen", "frames": [], "split": "test"}')
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = split_examples(load_examples(path, TINY_SCHEME))
    second = split_examples(load_examples(path, TINY_SCHEME))
    assert {k: [e.id for e in v] for k, v in first.items()} == {k: [e.id for e in v] for k, v in second.items()}
    assert "pinned" in [e.id for e in first["test"]]
    assert 200 < len(first["train"]) < 270 and first["dev"] and first["test"]
