"""End to end: `framelens serve` in a real uvicorn process on loopback, classified through with httpx."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import API_KEY, PASSAGE, SECOND
from tests.serve.live_server import ROOT, live_server


@pytest.fixture()
def server(home: Path, tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    log = tmp_path / "server.log"
    with live_server(home, log, FRAMELENS_REQUIRE_KEY_FOR_READS="false") as (url, proc):
        yield url, log, proc


def test_a_real_server_classifies_activates_and_survives_a_load_run(
    server: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, log, proc = server
    with httpx.Client(base_url=url, timeout=30) as http:
        response = http.post("/v1/classify", json={"text": PASSAGE}, headers={"X-Request-ID": "e2e-1"})
        assert response.status_code == 200 and response.headers["x-request-id"] == "e2e-1"
        (result,) = response.json()["results"]
        assert {f["label"] for f in result["frames"]} == {"negotiation", "military_aid", "humanitarian"}
        assert set(result["stance"]) == {"Ukraine", "Russia"}
        assert http.get("/docs").status_code == 200
        broken = http.post("/v1/classify", content=b"{oops", headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
        activated = http.post(f"/v1/models/{SECOND}/activate", headers={"X-API-Key": API_KEY})
        assert activated.status_code == 200
        assert http.post("/v1/classify", json={"text": PASSAGE}).json()["model_version"] == SECOND

    bench = subprocess.run(
        [sys.executable, "bench/api_load.py", "--url", url, "--clients", "4", "--requests", "40", "--warmup", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "req/s" in bench.stdout and "p99 ms" in bench.stdout
    assert "[e2e-1] POST /v1/classify 200" in log.read_text(), "the log line carries the request id"

    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal, so the exit status reports SIGTERM.
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Finished server process" in log.read_text(), "the server stopped cleanly, not killed"
