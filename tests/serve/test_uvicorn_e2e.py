"""End to end: `framelens serve` in a real uvicorn process on loopback, classified through with httpx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serve.auth import hash_key
from tests.serve.conftest import API_KEY, PASSAGE, SECOND

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def server(home: Path, tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        "FRAMELENS_HOME": str(home),
        "FRAMELENS_THREADS": "1",
        "FRAMELENS_API_KEY_HASHES": hash_key(API_KEY),
        "FRAMELENS_REQUIRE_KEY_FOR_READS": "false",
    }
    env.pop("FRAMELENS_VERSION", None)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "serve.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server never became ready:\n" + log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield url, log, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
