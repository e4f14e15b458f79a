"""The engine on the tiny model: outputs in three formats, errors file, windows, stopping and resuming."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from framelens.model.errors import FramelensError
from framelens.model.predictor import Predictor
from framelens.serve.scoring.engine import ScoreOptions, pending_plan, score_archive
from framelens.serve.scoring.local import LocalScorer
from framelens.serve.scoring.output import read_rows
from tests.serve.scoring.conftest import articles, read_jsonl, write_articles


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = articles(24)
    rows[5]["text"] = ""  # an empty article, reported and skipped
    path = write_articles(tmp_path_factory.mktemp("archive") / "news.jsonl", rows)
    with path.open("ab") as handle:
        handle.write(b'{"id": "broken", "text": "no end\n')
    return path


@pytest.fixture(scope="module")
def reference(archive: Path, predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "scores.jsonl"
    summary = score_archive(archive, out, LocalScorer(predictor), ScoreOptions(chunk_size=5, windows=True))
    assert summary.finished and summary.counts.scored == 23 and summary.counts.errors == 2
    return out


def test_each_article_gets_frames_stance_evidence_windows_and_version(reference: Path, predictor: Predictor) -> None:
    rows = read_jsonl(reference)
    assert [r["id"] for r in rows] == [f"a-{i:04d}" for i in range(24) if i != 5]
    first = rows[0]
    assert set(first["scores"]) == set(predictor.scheme.frame_names)
    assert set(first["stance"]) == {"Ukraine", "Russia"} and first["model_version"] == predictor.version
    assert first["windows"] >= 1 and first["outlet"] == "daily" and first["date"] == "2023-01-02"
    assert all(first["scores"][f] >= 0 for f in first["labels"])
    assert set(first["evidence"]["frames"]) == set(first["labels"])
    expected = predictor.classify([articles(24)[0]["text"]])[0]
    assert first["scores"] == pytest.approx({f.label: f.score for f in expected.frames}, abs=1e-5), "as classify"
    assert any(r["windows"] > 1 for r in rows), "some articles were read in several windows"


def test_errors_file_names_where_and_why(reference: Path) -> None:
    errors = read_jsonl(reference.with_name("scores.jsonl.errors.jsonl"))
    assert errors == [
        {"where": "news.jsonl:6", "reason": "empty text"},
        {"where": "news.jsonl:25", "reason": errors[1]["reason"]},
    ]
    assert errors[1]["reason"].startswith("broken JSON line")


def test_window_rows_cover_every_window(reference: Path) -> None:
    articles_out = read_jsonl(reference)
    windows = read_jsonl(reference.with_name("scores.windows.jsonl"))
    assert len(windows) == sum(r["windows"] for r in articles_out)
    assert {w["id"] for w in windows} == {r["id"] for r in articles_out}
    assert all(w["end"] > w["start"] and set(w["stance"]) == {"Ukraine", "Russia"} for w in windows)


def test_csv_and_parquet_hold_the_same_rows(
    reference: Path, archive: Path, predictor: Predictor, tmp_path: Path
) -> None:
    expected = read_jsonl(reference)
    for name in ("scores.csv", "scores.parquet"):
        out = tmp_path / name
        score_archive(archive, out, LocalScorer(predictor), ScoreOptions(chunk_size=5))
        got = list(read_rows(out))
        assert [r["id"] for r in got] == [r["id"] for r in expected], name
        for a, b in zip(got, expected, strict=True):
            assert a["labels"] == b["labels"] and a["stance"] == b["stance"]
            assert a["scores"] == pytest.approx(b["scores"], abs=1e-9)
            assert a["evidence"] == b["evidence"]
    header = next(csv.reader((tmp_path / "scores.csv").open()))
    assert "score:negotiation" in header and "stance:Ukraine" in header and "stance_score:Russia:favor" in header
    assert "score:humanitarian" in pq.ParquetFile(tmp_path / "scores.parquet").schema_arrow.names


def test_a_stopped_run_resumes_to_the_same_output(
    reference: Path, archive: Path, predictor: Predictor, tmp_path: Path
) -> None:
    out = tmp_path / "scores.jsonl"
    options = ScoreOptions(chunk_size=5, windows=True)
    chunks = []
    first = score_archive(
        archive,
        out,
        LocalScorer(predictor),
        options,
        should_stop=lambda: len(chunks) >= 2,
        on_progress=lambda c, items, w: chunks.append(items) if items else None,
    )
    assert not first.finished and not out.exists() and first.counts.consumed == 10
    plan = pending_plan(out)
    assert plan is not None and plan["model_version"] == predictor.version and plan["chunk_size"] == 5
    # A torn write after the last ledger (a kill mid-chunk) is cut away on resume.
    with (tmp_path / "scores.jsonl.partial" / "articles.jsonl").open("ab") as handle:
        handle.write(b'{"id": "half a ro')
    second = score_archive(archive, out, LocalScorer(predictor), options)
    assert second.finished and not (tmp_path / "scores.jsonl.partial").exists()
    assert out.read_text() == reference.read_text()
    assert out.with_name("scores.windows.jsonl").read_text() == reference.with_name("scores.windows.jsonl").read_text()
    assert (
        out.with_name("scores.jsonl.errors.jsonl").read_text()
        == reference.with_name("scores.jsonl.errors.jsonl").read_text()
    )
    again = score_archive(archive, out, LocalScorer(predictor), options)
    assert again.already_done


def test_resuming_with_other_options_is_refused_with_the_fix(
    archive: Path, predictor: Predictor, tmp_path: Path
) -> None:
    out = tmp_path / "scores.jsonl"
    score_archive(archive, out, LocalScorer(predictor), ScoreOptions(chunk_size=5), should_stop=lambda: True)
    with pytest.raises(FramelensError, match="--overwrite"):
        score_archive(archive, out, LocalScorer(predictor), ScoreOptions(chunk_size=5, evidence=False))
    done = score_archive(archive, out, LocalScorer(predictor), ScoreOptions(chunk_size=7, overwrite=True))
    assert done.finished and done.counts.scored == 23
    assert json.loads(out.read_text().splitlines()[0])["id"] == "a-0000"


def test_unknown_output_suffix_is_a_user_error(archive: Path, predictor: Predictor, tmp_path: Path) -> None:
    with pytest.raises(FramelensError, match=r"\.jsonl, \.csv or \.parquet"):
        score_archive(archive, tmp_path / "scores.xlsx", LocalScorer(predictor))
