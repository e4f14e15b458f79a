"""Caps on what an archive can make the reader do: oversize and bomb-like members, endless lines, Parquet members
spooled to disk, links out of the folder. Each is an error row; the rest of the archive is still read."""

from __future__ import annotations

import csv
import io
import json
import os
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from framelens.serve.scoring.limits import ArchiveLimits
from framelens.serve.scoring.records import BadRecord, Record, count_items, read_archive
from tests.serve.scoring.conftest import articles

ROWS = articles(4)
SMALL = ArchiveLimits(member_bytes=100_000, compression_ratio=50, line_bytes=10_000)


def _jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _split(items: list[Record | BadRecord]) -> tuple[list[str], dict[str, str]]:
    good = [i.id for i in items if isinstance(i, Record)]
    bad = {i.where: i.reason for i in items if isinstance(i, BadRecord)}
    return good, bad


def _tar(path: Path, members: list[tuple[str, bytes]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def test_a_zip_member_over_the_size_cap_is_an_error_row(tmp_path: Path) -> None:
    big = _jsonl([{"id": f"big-{i}", "text": os.urandom(300).hex()} for i in range(200)])  # 130 kB, incompressible
    with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.jsonl", _jsonl(ROWS[:2]))
        z.writestr("big.jsonl", big)
        z.writestr("c.jsonl", _jsonl(ROWS[2:]))
    good, bad = _split(list(read_archive(tmp_path / "a.zip", limits=SMALL)))
    assert good == [r["id"] for r in ROWS], "the members around it are read"
    assert list(bad) == ["big.jsonl"] and "FRAMELENS_MAX_MEMBER_BYTES" in bad["big.jsonl"], bad
    assert count_items(tmp_path / "a.zip", limits=SMALL) == len(ROWS) + 1
    assert len(list(read_archive(tmp_path / "a.zip"))) == len(ROWS) + 200, "the default cap is far above that"


def test_a_zip_bomb_member_is_an_error_row_read_no_further(tmp_path: Path) -> None:
    limits = ArchiveLimits(member_bytes=50_000_000, compression_ratio=50, line_bytes=10_000)
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.jsonl", _jsonl(ROWS[:2]))
        z.writestr("bomb.jsonl", b"\n" * 40_000_000)  # 40 MB of nothing, deflated to ~40 kB
        z.writestr("c.jsonl", _jsonl(ROWS[2:]))
    good, bad = _split(list(read_archive(tmp_path / "bomb.zip", limits=limits)))
    assert good == [r["id"] for r in ROWS]
    assert list(bad) == ["bomb.jsonl"] and "FRAMELENS_MAX_COMPRESSION_RATIO" in bad["bomb.jsonl"], bad


def test_a_tar_gz_bomb_stops_the_archive_with_an_error_row(tmp_path: Path) -> None:
    limits = ArchiveLimits(member_bytes=50_000_000, compression_ratio=50, line_bytes=10_000)
    archive = _tar(
        tmp_path / "bomb.tar.gz",
        [("a.jsonl", _jsonl(ROWS[:2])), ("bomb.jsonl", b"\n" * 40_000_000), ("c.jsonl", _jsonl(ROWS[2:]))],
    )
    tracemalloc.start()
    items = list(read_archive(archive, limits=limits))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    good, bad = _split(items)
    assert good == [r["id"] for r in ROWS[:2]]
    (reason,) = bad.values()
    assert "FRAMELENS_MAX_COMPRESSION_RATIO" in reason and "rest of the archive" in reason, bad
    assert peak < 8_000_000, peak
    assert count_items(archive, limits=limits) == len(items)


def test_a_tar_member_over_the_size_cap_is_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    big = _jsonl([{"id": f"big-{i}", "text": os.urandom(300).hex()} for i in range(200)])
    for mode, name in (("w:gz", "a.tar.gz"), ("w", "a.tar"), ("w:bz2", "b.tar"), ("w:xz", "x.tgz")):
        archive = _tar(
            tmp_path / name, [("a.jsonl", _jsonl(ROWS[:2])), ("big.jsonl", big), ("c.jsonl", _jsonl(ROWS[2:]))], mode
        )
        good, bad = _split(list(read_archive(archive, limits=SMALL)))
        assert good == [r["id"] for r in ROWS], name
        assert list(bad) == ["big.jsonl"] and "FRAMELENS_MAX_MEMBER_BYTES" in bad["big.jsonl"], bad


def test_an_endless_jsonl_line_is_an_error_row_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    with path.open("wb") as handle:
        handle.write(json.dumps(ROWS[0]).encode() + b"\n")
        handle.write(b'{"id": "long", "text": "' + b"x" * 20_000_000 + b'"}\n')
        handle.write(json.dumps(ROWS[1]).encode() + b"\n")
    tracemalloc.start()
    items = list(read_archive(path, limits=SMALL))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    good, bad = _split(items)
    assert good == [ROWS[0]["id"], ROWS[1]["id"]]
    assert list(bad) == ["long.jsonl:2"] and "FRAMELENS_MAX_LINE_BYTES" in bad["long.jsonl:2"], bad
    assert peak < 2_000_000, peak
    assert count_items(path, limits=SMALL) == 3


def test_an_overlong_csv_record_is_an_error_row_and_the_next_rows_are_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerow(["r1", "Ceasefire talks resumed."])
        writer.writerow(["long", "x" * 30_000])  # one physical line over the cap
        writer.writerow(["r2", "Refugees crossed\nthe border."])  # a quoted field over two lines is fine
        writer.writerow(["quoted", ("a paragraph, quoted " * 200 + "\n") * 10])  # over the cap across lines
        writer.writerow(["r3", "Aid arrived."])
    good, bad = _split(list(read_archive(path, limits=SMALL)))
    assert good == ["r1", "r2", "r3"], (good, bad)
    assert len(bad) == 2 and all("FRAMELENS_MAX_LINE_BYTES" in r for r in bad.values()), bad
    assert next(iter(bad)) == "long.csv:3"
    assert count_items(path, limits=SMALL) == 5


def test_parquet_members_are_spooled_to_disk_within_the_cap(tmp_path: Path) -> None:
    rows = [{"id": f"p-{i}", "text": os.urandom(1500).hex()} for i in range(2000)]  # ~6 MB, incompressible
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=100)
    data = buffer.getvalue()
    archive = _tar(tmp_path / "p.tar.gz", [("p.parquet", data), ("a.jsonl", _jsonl(ROWS[:1]))])
    limits = ArchiveLimits(member_bytes=len(data) + 1, compression_ratio=200, line_bytes=4_000_000)
    tracemalloc.start()
    count = 0
    for item in read_archive(archive, limits=limits):
        assert isinstance(item, Record), item
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 2001 and count_items(archive, limits=limits) == 2001
    assert peak < len(data) // 2, f"the member was held in memory ({peak:,} bytes at peak)"
    capped = ArchiveLimits(member_bytes=len(data) // 2, compression_ratio=200, line_bytes=4_000_000)
    for refused in (archive, _zip_of(tmp_path / "p.zip", "p.parquet", data)):
        _, bad = _split(list(read_archive(refused, limits=capped)))
        assert list(bad) == ["p.parquet"] and "FRAMELENS_MAX_MEMBER_BYTES" in bad["p.parquet"], bad


def _zip_of(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(name, data)
    return path


def test_folder_members_that_link_outside_are_error_rows_never_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    folder = root / "folder"
    (folder / "sub").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("The outside file must never be read.", encoding="utf-8")
    (root / "inside.txt").write_text("Talks resumed inside the root.", encoding="utf-8")
    (folder / "a.txt").write_text("Ceasefire talks resumed in geneva.", encoding="utf-8")
    (folder / "out.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "sub" / "up.txt").symlink_to(Path("..") / ".." / ".." / "secret.txt")
    (folder / "in.txt").symlink_to(root / "inside.txt")
    (folder / "self.txt").symlink_to(folder / "self.txt")
    (folder / "gone.txt").symlink_to(folder / "missing.txt")
    items = list(read_archive(folder, within=root))
    good, bad = _split(items)
    assert good == ["a.txt", "in.txt"], "a link that stays within the root is read"
    assert set(bad) == {"out.txt", "sub/up.txt", "self.txt", "gone.txt"}, bad
    assert all("outside the jobs root" in bad[n] for n in ("out.txt", "sub/up.txt")), bad
    assert all("never be read" not in getattr(i, "text", "") for i in items)
    assert count_items(folder, within=root) == len(items)
    followed, _ = _split(list(read_archive(folder / "sub")))
    assert followed == ["up.txt"], "without a root (the CLI), links are followed"
