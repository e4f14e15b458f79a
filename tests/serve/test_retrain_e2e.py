"""A real server on loopback: a retrain and promotion under a steady stream of requests, and a kill -9 mid-retrain."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

import httpx

from framelens.training.registry import Registry
from tests.serve.conftest import API_KEY, PASSAGE
from tests.serve.live_server import live_server

KEY = {"X-API-Key": API_KEY}


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed child waits as a zombie until something reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def server(home: Path, log: Path, **env: str) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    return live_server(home, log, FRAMELENS_BATCH_MAX_WAIT_MS="1", **env)


def test_retrain_and_promotion_under_a_steady_stream_fail_no_request(home: Path, tmp_path: Path) -> None:
    old = Registry(home).active()
    loose = {"FRAMELENS_GATE_MACRO_TOLERANCE": "1", "FRAMELENS_GATE_FRAME_TOLERANCE": "1"}
    with server(home, tmp_path / "server.log", **loose) as (url, _):
        seen: list[tuple[float, int, str | None]] = []  # (sent at, status, model version)
        stop = threading.Event()

        def stream() -> None:  # steady and bounded: one request at a time, at most 2,000, a few ms apart
            with httpx.Client(base_url=url, timeout=30) as http:
                for _ in range(2000):
                    if stop.is_set():
                        return
                    sent = time.monotonic()
                    try:
                        r = http.post("/v1/classify", json={"text": PASSAGE})
                        seen.append((sent, r.status_code, r.json().get("model_version")))
                    except httpx.HTTPError as exc:
                        seen.append((sent, 0, repr(exc)))
                    time.sleep(0.01)

        clients = [threading.Thread(target=stream) for _ in range(2)]
        for c in clients:
            c.start()
        with httpx.Client(base_url=url, timeout=30) as http:
            job = http.post("/v1/train", json={"epochs": 1}, headers=KEY).json()
            deadline = time.monotonic() + 240
            while (state := http.get(f"/v1/train/{job['id']}").json())["state"] in ("queued", "running"):
                assert time.monotonic() < deadline, state
                time.sleep(0.25)
            assert state["state"] == "succeeded" and state["result"]["promoted"], state
            new = state["result"]["version"]
            while http.get("/v1/models").json()["served"] != new:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            swapped_at = time.monotonic()
            time.sleep(1.0)
        stop.set()
        for c in clients:
            c.join(timeout=60)
    failed = [s for s in seen if s[1] != 200]
    assert not failed, failed[:5]
    assert {v for _, _, v in seen} == {old, new}, "answers came from the old model, then from the new one"
    after = [v for sent, _, v in seen if sent > swapped_at]
    assert after and set(after) == {new}, "every request sent after the swap is answered by the new version"
    print(f"\n{len(seen)} classify requests during retrain + promotion, 0 failed; {len(after)} after the swap")


def test_kill_9_during_a_retrain_leaves_no_half_version(home: Path, tmp_path: Path) -> None:
    registry = Registry(home)
    old, versions = registry.active(), registry.versions()
    log = tmp_path / "server.log"
    with server(home, log) as (url, proc), httpx.Client(base_url=url, timeout=30) as http:
        job = http.post("/v1/train", json={"epochs": 50}, headers=KEY).json()
        deadline = time.monotonic() + 120
        while True:  # wait until it is really training: steps are done
            state = http.get(f"/v1/train/{job['id']}").json()
            if state["phase"] == "training" and state["progress"] > 0.06:
                break
            assert state["state"] in ("queued", "running") and time.monotonic() < deadline, state
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 30  # the training process dies with its server
    while running(state["pid"]):
        assert time.monotonic() < deadline, "the training process outlived its server"
        time.sleep(0.1)
    assert registry.versions() == versions and registry.active() == old, "no half version, the old one active"
    with server(home, log) as (url, _), httpx.Client(base_url=url, timeout=30) as http:
        after = http.get(f"/v1/train/{job['id']}").json()
        assert after["state"] == "failed" and "stopped" in after["error"], after
        assert http.get("/v1/models").json()["served"] == old
    staging = home / ".staging"
    assert not staging.exists() or not any(staging.iterdir()), "no dead writer's staging folder is left"
