"""Trend reports: the HTML and its PNG charts are written, and the page renders its charts in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import pytest

from framelens.model.predictor import Predictor
from framelens.serve.cli import main
from framelens.serve.report.html import write_report
from framelens.serve.report.trends import choose_period, gather
from framelens.serve.scoring.engine import ScoreOptions, score_archive
from framelens.serve.scoring.local import LocalScorer
from framelens.serve.scoring.output import read_rows
from tests.serve.scoring.conftest import articles, write_articles

ROOT = Path(__file__).resolve().parents[3]
BROWSER = ROOT / "tools" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHARTS = ["frames-overall", "frames-over-time", "frames-by-outlet", "stance-over-time"]


@pytest.fixture(scope="module")
def scores(predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scores")
    archive = write_articles(folder / "news.jsonl", articles(60))
    out = folder / "scores.csv"  # the report reads any output format; CSV is the one that must parse numbers back
    score_archive(archive, out, LocalScorer(predictor), ScoreOptions(chunk_size=20, evidence=False))
    return out


def test_report_writes_html_and_one_png_per_chart(scores: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(scores), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    for key in CHARTS:
        png = tmp_path / f"report-{key}.png"
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", key
        assert f'id="chart-{key}"' in page and 'src="data:image/png;base64,' in page
        assert f'href="report-{key}.png"' in page
    assert "60 articles" in page and 'id="frames-table"' in page and 'id="stance-table"' in page
    assert "shown by week" in page, "half a year of articles is shown by week"


def test_period_is_chosen_by_span_or_given(scores: Path, tmp_path: Path) -> None:
    trends = gather(read_rows(scores))
    assert choose_period(trends) == "week" and choose_period(trends, "month") == "month"
    report = write_report(scores, tmp_path / "monthly.html", period="month")
    assert report.period == "month" and "shown by month" in (tmp_path / "monthly.html").read_text()


def test_without_dates_or_outlets_only_the_overall_chart(predictor: Predictor, tmp_path: Path) -> None:
    rows = [{"id": r["id"], "text": r["text"]} for r in articles(5)]
    out = tmp_path / "scores.jsonl"
    score_archive(write_articles(tmp_path / "a.jsonl", rows), out, LocalScorer(predictor))
    report = write_report(out, tmp_path / "r.html")
    assert [p.name for p in report.charts] == ["r-frames-overall.png"]
    assert "none of them dated" in (tmp_path / "r.html").read_text()


def test_report_renders_its_charts_in_headless_chromium(scores: Path, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not Path(CHROMIUM).exists():
        pytest.skip(f"needs node and Chromium at {CHROMIUM} (apt-get install -y chromium nodejs; see .ci/run)")
    assert (BROWSER / "node_modules" / "playwright-core").is_dir(), "run `npm ci --prefix tools/browser` first"
    out = tmp_path / "report.html"
    write_report(scores, out, title="Tiny trends")
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [node, str(BROWSER / "screenshot.mjs"), str(out), str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["title"] == "Tiny trends"
    assert [c["id"] for c in seen["charts"]] == [f"chart-{k}" for k in CHARTS]
    for chart in seen["charts"]:
        assert chart["loaded"] and chart["naturalWidth"] > 300 and chart["width"] > 300, chart
        assert chart["alt"], "every chart says what it shows"
    assert {t["id"] for t in seen["tables"]} == {"frames-table", "stance-table"}
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] > 1500 and pixels.shape[1] >= 1200, pixels.shape
    assert pixels[..., :3].std() > 0.05, "the screenshot is not blank"
