"""The page over plain HTTP: open without a key, a strict CSP, no inline code; the jobs' trend report route."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from framelens.serve.jobs.store import JobStore
from framelens.serve.routers.page import CSP
from tests.serve.conftest import auth, make_settings, serving
from tests.serve.scoring.conftest import articles, write_articles

PAGE = Path(__file__).resolve().parents[3] / "serve" / "page"


def _assets() -> list[str]:
    """Every file the page loads: what index.html names, and what the modules import."""
    index = (PAGE / "index.html").read_text(encoding="utf-8")
    names = set(re.findall(r'(?:src|href)="/page/([^"]+)"', index))
    for module in PAGE.glob("*.js"):
        names |= set(re.findall(r'from "\./([^"]+)"', module.read_text(encoding="utf-8")))
    return sorted(names)


def test_the_page_and_its_assets_need_no_key_and_carry_a_strict_policy(trained_home: Path) -> None:
    with serving(make_settings(trained_home, require_key_for_reads=True)) as client:
        assert client.get("/v1/scheme").status_code == 401, "reads need a key on this server"
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        expected = {
            "app.js": "text/javascript; charset=utf-8",
            "style.css": "text/css; charset=utf-8",
            "icon.svg": "image/svg+xml",
        }
        assets = _assets()
        assert set(expected) <= set(assets) and "classify.js" in assets, assets
        for response in [page, *(client.get(f"/page/{name}") for name in assets)]:
            assert response.status_code == 200, response.url
            assert response.headers["content-security-policy"] == CSP
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["cache-control"] == "no-cache" and response.headers["etag"]
        for name, kind in expected.items():
            assert client.get(f"/page/{name}").headers["content-type"] == kind
        again = client.get("/page/app.js", headers={"If-None-Match": client.get("/page/app.js").headers["etag"]})
        assert again.status_code == 304 and not again.content, "an unchanged file is not sent again"
        missing = client.get("/page/../settings.py")
        assert missing.status_code == 404
        assert client.get("/page/secrets.txt").json()["error"] == "not_found"
    assert CSP.startswith("default-src 'self'; script-src 'self'; style-src 'self';")
    assert "frame-ancestors 'none'" in CSP and "base-uri 'none'" in CSP and "'unsafe-inline'" not in CSP


def test_the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere() -> None:
    index = (PAGE / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", index), "every script is a file"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", index), "no inline style or handler attribute"
    for path in PAGE.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text.replace("http://www.w3.org/2000/svg", "")), (
            f"{path.name} loads nothing from elsewhere"
        )
        if path.suffix == ".js":
            assert not re.search(r"\.(inner|outer)HTML|insertAdjacentHTML|setAttribute\(\"style|\beval\(", text), (
                path.name
            )
            assert "localStorage" not in text, "the key lives in sessionStorage only"


def _wait(client: TestClient, job_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while (job := client.get(f"/v1/jobs/{job_id}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def _upload(client: TestClient, path: Path) -> str:
    with path.open("rb") as handle:
        created = client.post("/v1/jobs", files={"file": (path.name, handle)}, headers=auth())
    assert created.status_code == 202, created.text
    return str(created.json()["id"])


def test_a_finished_job_has_its_trend_report_made_once(trained_home: Path, tmp_path: Path) -> None:
    settings = make_settings(trained_home, jobs_dir=tmp_path / "jobs", jobs_chunk_size=10)
    with serving(settings) as client:
        assert client.get("/v1/jobs/nope/report").status_code == 404
        stuck = JobStore(tmp_path / "jobs" / "jobs.sqlite3").create(
            tmp_path / "gone.jsonl", "gone.jsonl", {"targets": None, "evidence": True}, "v1", "stuck"
        )
        early = client.get(f"/v1/jobs/{stuck.id}/report")
        assert early.status_code == 409 and early.json()["error"] == "job_not_done"

        job_id = _upload(client, write_articles(tmp_path / "news.jsonl", articles(30)))
        assert _wait(client, job_id)["state"] == "done"
        report = client.get(f"/v1/jobs/{job_id}/report")
        assert report.status_code == 200 and report.headers["content-type"] == "text/html; charset=utf-8"
        policy = report.headers["content-security-policy"]
        assert "script-src" not in policy and "default-src 'none'" in policy, "no script at all"
        assert "style-src 'unsafe-inline'" in policy and "img-src 'self' data:" in policy
        assert report.headers["x-content-type-options"] == "nosniff"
        html = report.text
        assert "30 articles" in html and "news.jsonl" in html and html.count('src="data:image/png;base64,') == 4
        written = tmp_path / "jobs" / job_id / "report.html"
        stamp = written.stat().st_mtime_ns
        assert client.get(f"/v1/jobs/{job_id}/report").text == html and written.stat().st_mtime_ns == stamp
        chart = client.get(f"/v1/jobs/{job_id}/report-frames-overall.png")  # the report's own link, relative
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content[:8] == b"\x89PNG\r\n\x1a\n" and 'href="report-frames-overall.png"' in html
        assert client.get(f"/v1/jobs/{job_id}/report-nothing.png").status_code == 404

        empty = [{**row, "text": ""} for row in articles(3)]
        nothing = _upload(client, write_articles(tmp_path / "empty.jsonl", empty))
        assert _wait(client, nothing)["state"] == "done"
        refused = client.get(f"/v1/jobs/{nothing}/report")
        assert refused.status_code == 409 and "scored no articles" in refused.json()["detail"]
