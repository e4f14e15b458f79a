"""`framelens serve` as a real uvicorn process on a free loopback port, for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from framelens.serve.auth import hash_key
from tests.serve.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(home: Path, log: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server on `home` (its output appended to `log`), wait until /readyz answers 200, yield its URL
    and process; stop it with SIGINT (then SIGKILL) on the way out. `env`: extra FRAMELENS_* settings."""
    port = free_port()
    environ = {
        **os.environ,
        "FRAMELENS_HOME": str(home),
        "FRAMELENS_THREADS": "1",
        "FRAMELENS_API_KEY_HASHES": hash_key(API_KEY),
        **env,
    }
    environ.pop("FRAMELENS_VERSION", None)
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "framelens.serve.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=environ,
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
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
