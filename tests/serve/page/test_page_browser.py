"""The page at / in headless Chromium (tools/browser/page_checks.mjs, playwright-core) against a real uvicorn server on
the tiny model: classify with highlighted evidence, correct and save, a write without a key, the label queue, an
archive with its progress and trend report, activating another version. axe-core runs on every view shown (no
serious or critical violation); each view is shot at 1366x768 and 390x844 into FRAMELENS_PAGE_SHOTS (default: a
pytest temporary folder). One server for the module; the tests run in order (the last one changes the model)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from framelens.training.gate import write_decision
from framelens.training.registry import Registry
from tests.fixtures import tiny_rows
from tests.serve.conftest import API_KEY, PASSAGE, SECOND
from tests.serve.live_server import ROOT, live_server
from tests.serve.scoring.conftest import articles, write_articles

BROWSER = ROOT / "tools" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
POOL = [
    "Refugees crossed the border at night.",
    "A new weapons package arrived. About Russia the brutal aggressor shelled homes.",
    "Diplomats discussed a peace settlement while civilians fled the shelled city.",
    "An unrelated weather report about rain in the city.",
]

pytestmark = pytest.mark.skipif(
    NODE is None or not Path(CHROMIUM).exists(),
    reason=f"needs node and Chromium at {CHROMIUM} (tools/test-deps.sh installs them; `make test` runs it)",
)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("FRAMELENS_PAGE_SHOTS")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("page-shots")


@pytest.fixture(scope="module")
def page_home(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private registry; SECOND carries a gate decision (a refused candidate), as a retrained version does."""
    home = Path(shutil.copytree(trained_home, tmp_path_factory.mktemp("page") / "home"))
    first = Registry(home).active()
    checks = [
        {
            "metric": "frames macro-F1",
            "candidate": 0.74,
            "active": 0.75,
            "change": -0.01,
            "allowed_drop": 0.01,
            "ok": True,
        },
        {
            "metric": "frame negotiation F1",
            "candidate": 0.6,
            "active": 0.7,
            "change": -0.1,
            "allowed_drop": 0.05,
            "ok": False,
        },
    ]
    reason = "frame negotiation F1 fell 0.100 (0.700 -> 0.600), more than the 0.050 allowed"
    decision = {"compared_with": first, "checks": checks, "promote": False, "reasons": [reason]}
    write_decision(Registry(home).versions_dir / SECOND, decision)
    return home


@pytest.fixture(scope="module")
def server(page_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert (BROWSER / "node_modules" / "playwright-core").is_dir() and (
        BROWSER / "node_modules" / "axe-core"
    ).is_dir(), "run `npm ci --prefix tools/browser` first (make test does)"
    folder = tmp_path_factory.mktemp("page-server")
    pool = folder / "pool.jsonl"
    pool.write_text("".join(json.dumps({"id": f"pool-{i}", "text": t}) + "\n" for i, t in enumerate(POOL)))
    env = {"FRAMELENS_SUGGEST_POOL": str(pool), "FRAMELENS_JOBS_CHUNK_SIZE": "8"}
    with live_server(page_home, folder / "server.log", **env) as (url, _):
        yield url


def page(scenario: str, url: str, shots: Path, **env: str) -> dict[str, Any]:
    """Run one scenario of page_checks.mjs; check what every scenario must hold, and return what it saw."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(BROWSER / "page_checks.mjs"), scenario],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
        cwd=BROWSER,
        env={**os.environ, "PAGE_URL": url, "PAGE_SHOTS": str(shots), "PAGE_KEY": API_KEY, "CHROMIUM": CHROMIUM, **env},
    )
    lines = done.stdout.strip().splitlines()
    seen = json.loads(lines[-1]) if lines else {}
    assert done.returncode == 0 and "result" in seen, seen.get("failed") or done.stderr
    assert seen["errors"] == [], "the page raised script errors"
    assert seen["csp"] == [], "the page broke its Content-Security-Policy"
    assert seen["overflow"] == [], "a view is wider than the screen (it would scroll sideways)"
    for view, violations in seen["axe"].items():
        grave = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert grave == [], f"axe on {view}: {grave}"
    assert seen["axe"], "axe ran on at least one view"
    for shot in seen["shots"]:
        assert Path(shot).stat().st_size > 5000, f"{shot} is blank"
    result: dict[str, Any] = seen["result"]
    return result


def examples(url: str) -> list[dict[str, Any]]:
    lines = httpx.get(f"{url}/v1/examples", timeout=30).text.splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_classify_scores_each_frame_and_marks_its_evidence_in_the_text(server: str, shots: Path) -> None:
    api = httpx.post(f"{server}/v1/classify", json={"text": PASSAGE}, timeout=30).json()["results"][0]
    article = "\n\n".join(row["text"] for row in tiny_rows(12))
    windows = httpx.post(f"{server}/v1/classify", json={"text": article}, timeout=30).json()["results"][0]["windows"]
    seen = page("classify", server, shots, PAGE_TEXT=PASSAGE, PAGE_LONG_TEXT=article)
    frames = {f["label"]: f for f in api["frames"]}
    assert {f["name"] for f in seen["frames"]} == set(frames)
    flags = [f["predicted"] for f in seen["frames"]]
    assert flags == sorted(flags, reverse=True), "predicted frames come first"
    for row in seen["frames"]:
        assert row["predicted"] == frames[row["name"]]["predicted"] == row["ticked"]
        assert f"{frames[row['name']]['score']:.2f}" in row["shown"]
    evidence = {e["sentence"] for f in api["frames"] if f["predicted"] for e in f["evidence"]}
    evidence |= {e["sentence"] for s in api["stance"].values() for e in s["evidence"]}
    assert {m["text"] for m in seen["marks"]} == evidence and evidence, "the evidence sentences are marked"
    assert all(m["background"] not in ("rgba(0, 0, 0, 0)", "transparent") for m in seen["marks"])
    names = set(frames) | {f"{t}: {s['label']}" for t, s in api["stance"].items()}
    assert set(seen["tags"]) <= names and seen["tags"], "each mark is named by the labels it drove"
    for block in seen["stance"]:
        answer = api["stance"][block["target"]]
        assert block["chosen"] == answer["label"]
        assert block["shown"] == [f"{answer['scores'][label]:.2f}" for label in answer["scores"]]
    first = seen["first"]
    assert len(seen["lit"]) == len({e["sentence"] for e in frames[first]["evidence"]})
    assert all(f"f:{first}" in keys.split() for keys in seen["lit"]), "hovering a frame lights its sentences"
    assert seen["sentence"].startswith("This sentence drove") and "sentence score" in seen["sentence"]
    assert seen["windows"] == "Read in one window."
    assert seen["sent"]["thresholds"] == {first: 0.99}, "the slider's threshold is sent with the call"
    moved = {f["name"]: f for f in seen["after"]}
    assert not moved[first]["predicted"] and not moved[first]["ticked"] and "< 0.99" in moved[first]["shown"]
    assert windows > 1 and f"read in {windows} overlapping windows" in seen["long"]["windows"], "a long article"
    assert seen["long"]["marks"] > 0


def test_corrected_labels_are_saved_and_listed_by_the_store(server: str, shots: Path) -> None:
    labels = {"frames": ["humanitarian"], "stance": {"Ukraine": "against", "Russia": ""}}
    seen = page("correct", server, shots, PAGE_TEXT=PASSAGE, PAGE_LABELS=json.dumps(labels))
    assert "API key" in seen["prompt"] and seen["saved"].startswith("Saved")
    assert seen["keyState"] == "API key set for this tab"
    (stored,) = [row for row in examples(server) if row["text"] == PASSAGE]
    assert stored["frames"] == ["humanitarian"] and stored["stance"] == {"Ukraine": "against"}


def test_a_write_without_a_key_brings_the_prompt_back_and_stores_nothing(server: str, shots: Path) -> None:
    before = examples(server)
    seen = page("nokey", server, shots, PAGE_TEXT="Allies pledged more ammunition.")
    assert seen["prompt"] == "This changes the service, so it needs an API key."
    assert "No API key given" in seen["refused"]
    assert "HTTP 403" in seen["wrong"] and "not accepted" in seen["wrong"], "the server's reason is shown"
    assert "Nothing was changed" in seen["after"] and seen["keyState"].startswith("No API key")
    assert examples(server) == before


def test_the_queue_walks_two_suggestions_with_the_keyboard(server: str, shots: Path) -> None:
    lines = httpx.get(f"{server}/v1/suggestions?format=jsonl&n=2", timeout=30).text.splitlines()
    wanted = [json.loads(line) for line in lines]
    scheme = httpx.get(f"{server}/v1/scheme", timeout=30).json()
    frames, labels = [f["name"] for f in scheme["frames"]], scheme["stance"]["labels"]
    targets = scheme["stance"]["targets"]
    seen = page("queue", server, shots)
    assert [w["before"]["position"] for w in seen["walked"]] == ["Passage 1 of 2", "Passage 2 of 2"]
    for walk, suggestion, (frame, target, label) in zip(
        seen["walked"], wanted, [(frames[0], targets[0], labels[0]), (frames[1], targets[1], labels[1])], strict=True
    ):
        before, after = walk["before"], walk["after"]
        assert before["text"] == suggestion["text"] and suggestion["id"] in before["meta"]
        assert set(before["frames"]) == set(suggestion["model_frames"]), "pre-filled with the model's answer"
        assert before["stance"] == suggestion["model_stance"]
        assert set(after["frames"]) == set(before["frames"]) ^ {frame}, "a number key toggles its frame"
        assert after["stance"] == {**before["stance"], target: label}, "a letter sets its target's stance"
        assert walk["status"] == 200
        (stored,) = [row for row in examples(server) if row["id"] == suggestion["id"]]
        assert set(stored["frames"]) == set(after["frames"]) and stored["stance"] == after["stance"]
    assert seen["done"].startswith("Done: 2 saved")
    assert seen["shortcuts"][0] == "1–3" and "Enter" in seen["shortcuts"]


def test_an_uploaded_archive_shows_its_progress_then_its_report(server: str, shots: Path, tmp_path: Path) -> None:
    rows = articles(40)
    rows[3]["text"] = ""
    archive = write_articles(tmp_path / "news.jsonl", rows)
    seen = page("archive", server, shots, PAGE_ARCHIVE=str(archive))
    job = seen["job"]
    assert job["state"] == "done" and job["bar"] == 1
    assert job["text"].startswith("40 of 40 records · 100%") and "39 scored · 1 not scorable" in job["meta"]
    assert job["errors"] == ["news.jsonl:4 empty text"], "the records that could not be scored are listed"
    links = {link["text"]: link["href"] for link in job["links"]}
    assert links["Open the trend report"] == f"/v1/jobs/{job['id']}/report"
    scores = httpx.get(server + links["Download the scores (JSON Lines)"], timeout=30)
    assert len(scores.text.splitlines()) == 39
    assert seen["reportTitle"] == "Framing and stance trends: news.jsonl"
    assert [c["id"] for c in seen["charts"]] == [
        "chart-frames-overall",
        "chart-frames-over-time",
        "chart-frames-by-outlet",
        "chart-stance-over-time",
    ]
    assert all(c["naturalWidth"] > 0 and c["width"] > 300 for c in seen["charts"]), "the charts render"


def test_activating_another_version_changes_the_served_one(server: str, shots: Path) -> None:
    served = httpx.get(f"{server}/v1/models", timeout=30).json()["served"]
    assert served != SECOND
    seen = page("models", server, shots, PAGE_VERSION=SECOND)
    assert served in seen["before"] and SECOND in seen["after"]
    assert seen["message"] == f"Now serving {SECOND} (was {served})."
    assert any("frame negotiation F1" in row and "failed" in row for row in seen["gate"]), "the gate's table shows"
    assert httpx.get(f"{server}/v1/models", timeout=30).json()["served"] == SECOND
