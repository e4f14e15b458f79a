"""FRAMELENS_MAX_BODY_BYTES holds however the body is framed: a chunked body that grows past it is a 413 on every
route that reads one (JSON, uploads, multipart), with the JSON error body, in-process and on a real server."""

from __future__ import annotations

import contextlib
import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import API_KEY, auth, make_settings, serving
from tests.serve.live_server import live_server

LIMIT = 4000
BOUNDARY = "framelens-test-boundary"


def chunks(head: bytes, tail: bytes = b"", size: int = 10 * LIMIT) -> Iterator[bytes]:
    """A body sent in pieces with no Content-Length (httpx then sends Transfer-Encoding: chunked)."""
    yield head
    for _ in range(size // 1000):
        yield b"z" * 1000
    yield tail


def multipart_head(filename: str, field: str = "file") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture(scope="module")
def small(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("limits")
    settings = make_settings(trained_home, max_body_bytes=LIMIT, jobs_dir=home / "jobs")
    with serving(settings) as client:
        yield client


def too_large(response: object) -> None:
    assert response.status_code == 413, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == "content_too_large" and "FRAMELENS_MAX_BODY_BYTES" in body["detail"], body


@pytest.mark.parametrize(
    ("route", "headers", "head", "tail"),
    [
        ("/v1/classify", {"Content-Type": "application/json"}, b'{"text": "', b'"}'),
        ("/v1/examples", {"Content-Type": "application/x-ndjson"}, b'{"text": "', b'"}\n'),
        ("/v1/examples", MULTIPART, multipart_head("rows.jsonl"), TAIL),
        ("/v1/examples/import?format=labelstudio", {"Content-Type": "application/json"}, b'[{"data": "', b'"}]'),
        ("/v1/suggestions", {"Content-Type": "text/plain"}, b"passage ", b""),
        ("/v1/suggestions", MULTIPART, multipart_head("pool.txt"), TAIL),
        ("/v1/jobs", MULTIPART, multipart_head("news.jsonl"), TAIL),
        ("/v1/jobs", {"Content-Type": "application/json"}, b'{"path": "', b'"}'),
        ("/v1/train", {"Content-Type": "application/json"}, b'{"epochs": 1, "x": "', b'"}'),
    ],
)
def test_a_chunked_body_past_the_limit_is_413(
    small: TestClient, route: str, headers: dict[str, str], head: bytes, tail: bytes
) -> None:
    too_large(small.post(route, content=chunks(head, tail), headers={**auth(), **headers}))


def test_a_body_with_content_length_past_the_limit_is_413_too(small: TestClient) -> None:
    body = multipart_head("news.jsonl") + b"z" * (2 * LIMIT) + TAIL
    too_large(small.post("/v1/jobs", content=body, headers={**auth(), **MULTIPART}))


def _raw_chunked(url: str, path: str, headers: dict[str, str], pieces: Iterator[bytes]) -> tuple[int, dict[str, str]]:
    """A hand-written HTTP/1.1 request with Transfer-Encoding: chunked, sent piece by piece over a socket."""
    where = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {where.netloc}", "Transfer-Encoding: chunked", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        for piece in [*pieces, b""]:  # the empty piece is the last chunk
            if select.select([sock], [], [], 0.05)[0]:
                break  # the server answered: stop sending (data it never reads would reset the connection)
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return status, json.loads(body)


def test_a_real_server_answers_413_to_chunked_uploads(home: Path, tmp_path: Path) -> None:
    env = {"FRAMELENS_MAX_BODY_BYTES": str(LIMIT), "FRAMELENS_JOBS_DIR": str(tmp_path / "jobs")}
    with live_server(home, tmp_path / "server.log", **env) as (url, _):
        key = {"X-API-Key": API_KEY}
        for path, headers, head, tail in (
            ("/v1/jobs", MULTIPART, multipart_head("news.jsonl"), TAIL),
            ("/v1/examples", {"Content-Type": "application/x-ndjson"}, b'{"text": "', b'"}\n'),
            ("/v1/classify", {"Content-Type": "application/json"}, b'{"text": "', b'"}'),
        ):
            status, body = _raw_chunked(url, path, {**key, **headers}, chunks(head, tail))
            assert status == 413 and body["error"] == "content_too_large", (path, status, body)
            assert "FRAMELENS_MAX_BODY_BYTES" in body["detail"]
    assert not list((tmp_path / "jobs").glob("*/upload/*")), "nothing of a refused upload is kept"
