"""Readers: every archive format gives the same records, bad records are reported with where and why, lazily."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framelens.model.errors import FramelensError
from framelens.serve.scoring.records import BadRecord, Record, count_items, read_archive
from tests.serve.scoring.conftest import articles, write_articles

ROWS = articles(6)


def _records(path: Path) -> list[Record]:
    items = list(read_archive(path))
    assert all(isinstance(i, Record) for i in items), items
    return [i for i in items if isinstance(i, Record)]


def test_jsonl_csv_and_parquet_give_the_same_articles(tmp_path: Path) -> None:
    jsonl = write_articles(tmp_path / "a.jsonl", ROWS)
    with (tmp_path / "a.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(ROWS)
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "a.parquet", row_group_size=4)
    expected = [(r["id"], r["text"], r["title"], r["date"], r["outlet"]) for r in ROWS]
    for path in (jsonl, tmp_path / "a.csv", tmp_path / "a.parquet"):
        got = [(r.id, r.text, r.title, r.date, r.outlet) for r in _records(path)]
        assert got == expected, path.name
        assert count_items(path) == len(ROWS)


def test_records_without_an_id_get_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text('{"text": "First one."}\n\n{"text": "Second one.", "id": 7}\n', encoding="utf-8")
    assert [(r.id, r.where) for r in _records(path)] == [("news.jsonl:1", "news.jsonl:1"), ("7", "news.jsonl:3")]


def _text_files(root: Path) -> None:
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_text("# Talks resume\nCeasefire talks resumed in geneva.", encoding="utf-8")
    (root / "b" / "c.md").write_text("Refugees crossed the border at night.", encoding="utf-8")
    (root / "b" / "skip.pdf").write_bytes(b"%PDF")
    (root / ".hidden.txt").write_text("not read", encoding="utf-8")


def test_folder_zip_and_tar_gz_of_text_files(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    _text_files(folder)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
    with tarfile.open(tmp_path / "a.tar.gz", "w:gz") as t:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                t.add(p, p.relative_to(folder).as_posix())
    for path in (folder, tmp_path / "a.zip", tmp_path / "a.tar.gz"):
        records = _records(path)
        assert [r.id for r in records] == ["a.txt", "b/c.md"], path.name
        assert records[0].title == "Talks resume" and records[1].text.startswith("Refugees")
        assert count_items(path) == 2


def test_archives_may_hold_jsonl_csv_and_parquet(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ROWS[:2]), buffer)
    with tarfile.open(tmp_path / "mixed.tar.gz", "w:gz") as t:
        for name, data in (
            ("part1.jsonl", "".join(json.dumps(r) + "\n" for r in ROWS[2:4]).encode()),
            ("part2.parquet", buffer.getvalue()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    assert [r.id for r in _records(tmp_path / "mixed.tar.gz")] == [r["id"] for r in ROWS[2:4] + ROWS[:2]]


def test_bad_records_say_where_and_why_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"id": "ok-1", "text": "Talks resumed."}\n'
        b'{"id": "empty", "text": "   "}\n'
        b'{"id": "broken", "text": "no end\n'
        b'{"id": "bytes", "text": "caf\xe9"}\n'
        b'["not", "an", "object"]\n'
        b'{"id": "no-text"}\n'
        b'{"id": "ok-2", "text": "Aid arrived."}\n'
    )
    items = list(read_archive(path))
    assert [i.id for i in items if isinstance(i, Record)] == ["ok-1", "ok-2"]
    bad = {i.where: i.reason for i in items if isinstance(i, BadRecord)}
    assert bad["bad.jsonl:2"] == "empty text"
    assert bad["bad.jsonl:3"].startswith("broken JSON line")
    assert bad["bad.jsonl:4"].startswith("undecodable bytes")
    assert bad["bad.jsonl:5"].startswith("not a JSON object")
    assert bad["bad.jsonl:6"].startswith("no 'text' field")


def test_bad_csv_rows_and_text_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b'id,text\n1,Talks resumed.\n2,"caf\xe9"\n3,\n4,Aid arrived.,extra\n5,Fine.\n')
    items = list(read_archive(tmp_path / "a.csv"))
    assert [i.id for i in items if isinstance(i, Record)] == ["1", "5"]
    assert [i.reason.split(" (")[0] for i in items if isinstance(i, BadRecord)] == [
        "undecodable bytes",
        "empty text",
        "more fields than the 2 columns of the header",
    ]
    (tmp_path / "notext.csv").write_text("id,body\n1,x\n", encoding="utf-8")
    (bad,) = read_archive(tmp_path / "notext.csv")
    assert isinstance(bad, BadRecord) and "name the article column 'text'" in bad.reason
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9")
    (bad,) = read_archive(tmp_path / "latin.txt")
    assert isinstance(bad, BadRecord) and bad.where == "latin.txt"


def test_unknown_or_missing_archives_are_user_errors(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(FramelensError, match="unknown archive type"):
        list(read_archive(tmp_path / "a.pdf"))
    with pytest.raises(FramelensError, match="does not exist"):
        list(read_archive(tmp_path / "missing.jsonl"))
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(FramelensError, match="not a readable zip"):
        list(read_archive(tmp_path / "broken.zip"))


def test_reading_streams_memory_does_not_grow_with_the_archive(tmp_path: Path) -> None:
    def peak_reading(n: int) -> int:
        path = write_articles(tmp_path / f"big-{n}.jsonl", articles(n))
        tracemalloc.start()
        count = sum(1 for _ in read_archive(path))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return peak

    small, large = peak_reading(500), peak_reading(5000)
    assert large < small * 1.5 + 64_000, (small, large)
