"""Bad input answers 4xx with {"error", "detail"} that says what to fix; it never reaches a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import PASSAGE, make_settings, serving


@pytest.fixture(scope="module")
def strict(trained_home: Path) -> Iterator[TestClient]:
    """A service with small limits, so the limits are cheap to hit."""
    settings = make_settings(trained_home, max_texts=3, max_text_chars=500, max_body_bytes=4000, max_targets=2)
    with serving(settings) as client:
        yield client


def problem(response: object, status: int, error: str, *words: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]
    assert response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "detail"} and body["error"] == error, body
    for word in words:
        assert word in body["detail"], body["detail"]
    return str(body["detail"])


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ({"text": 5}, "invalid_request", ["text", "string"]),
        ({"texts": "one passage"}, "invalid_request", ["texts", "list"]),
        ({"texts": ["ok", 7]}, "invalid_request", ["texts[1]"]),
        ({"text": PASSAGE, "evidence": "yes"}, "invalid_request", ["evidence", "boolean"]),
        ({"text": PASSAGE, "targets": "NATO"}, "invalid_request", ["targets"]),
        ({"text": PASSAGE, "thresholds": {"negotiation": 2}}, "invalid_request", ["thresholds.negotiation"]),
        ({"text": PASSAGE, "thresholds": {"negotiaton": 0.3}}, "unknown_frame", ["negotiaton", "negotiation"]),
        ({"text": PASSAGE, "texts": [PASSAGE]}, "invalid_request", ["either 'text'"]),
        ({}, "invalid_request", ["either 'text'"]),
        ({"txt": PASSAGE}, "invalid_request", ["txt", "not a known field"]),
        ({"text": ""}, "invalid_request", ["text is empty"]),
        ({"texts": []}, "invalid_request", ["texts"]),
        ({"texts": [PASSAGE, "  \n "]}, "invalid_request", ["texts[1]", "whitespace"]),
        ({"text": PASSAGE, "targets": [" "]}, "empty_target", ["target"]),
        ({"text": PASSAGE, "targets": ["a", "b", "c"]}, "too_many_targets", ["FRAMELENS_MAX_TARGETS"]),
        ([PASSAGE], "invalid_request", ["object"]),
    ],
)
def test_wrong_bodies_are_422_naming_the_field(strict: TestClient, body: object, error: str, words: list[str]) -> None:
    problem(strict.post("/v1/classify", json=body), 422, error, *words)


def test_limits_are_413_and_name_the_setting(strict: TestClient) -> None:
    problem(strict.post("/v1/classify", json={"texts": ["a"] * 4}), 413, "too_many_texts", "FRAMELENS_MAX_TEXTS")
    long = "A new weapons package arrived. " * 20
    problem(strict.post("/v1/classify", json={"text": long}), 413, "text_too_long", "620", "FRAMELENS_MAX_TEXT_CHARS")
    huge = {"texts": ["x" * 3000, "y" * 3000]}
    problem(strict.post("/v1/classify", json=huge), 413, "content_too_large", "FRAMELENS_MAX_BODY_BYTES")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        yield b'{"texts": ["'
        for _ in range(10):
            yield b"z" * 1000
        yield b'"]}'

    chunked = strict.post("/v1/classify", content=chunks(), headers={"Content-Type": "application/json"})
    problem(chunked, 413, "content_too_large", "FRAMELENS_MAX_BODY_BYTES")


def test_a_body_that_is_not_json_says_to_send_json(strict: TestClient) -> None:
    broken = strict.post("/v1/classify", content=b'{"text": "unfinished', headers={"Content-Type": "application/json"})
    problem(broken, 400, "invalid_json", "not valid JSON")
    form = strict.post(
        "/v1/classify", content=b"text=hello", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    problem(form, 415, "unsupported_media_type", "Content-Type: application/json")
    empty = strict.post("/v1/classify", content=b"", headers={"Content-Type": "application/json"})
    problem(empty, 422, "invalid_request", "empty")
    binary = strict.post("/v1/classify", content=b"\xff\xfe\x00garbage", headers={"Content-Type": "application/json"})
    assert binary.status_code in (400, 422) and binary.json()["error"]


def test_unknown_routes_and_methods_answer_json(strict: TestClient) -> None:
    problem(strict.get("/v1/clasify"), 404, "not_found", "/docs")
    problem(strict.get("/v1/classify"), 405, "method_not_allowed", "GET")
    problem(strict.post("/v1/models/nope/activate", headers={"X-API-Key": "wrong"}), 403, "invalid_api_key")


def test_the_service_keeps_answering_after_bad_input(strict: TestClient) -> None:
    for _ in range(3):
        strict.post("/v1/classify", content=b"\x00\x01", headers={"Content-Type": "application/json"})
    ok = strict.post("/v1/classify", json={"text": PASSAGE})
    assert ok.status_code == 200 and ok.json()["results"][0]["frames"]
    metrics = strict.get("/metrics").text
    assert 'status="500"' not in metrics
