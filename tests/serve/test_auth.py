"""API keys: hashed in settings, 401 without a key, 403 with a wrong one, writes closed when none is configured."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from framelens.serve.cli import main
from tests.serve.conftest import API_KEY, PASSAGE, SECOND, auth, make_settings, serving


def test_writes_need_a_valid_key_401_versus_403(home: Path) -> None:
    with serving(make_settings(home)) as client:
        missing = client.post(f"/v1/models/{SECOND}/activate")
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert "Authorization: Bearer" in missing.json()["detail"]
        wrong = client.post(f"/v1/models/{SECOND}/activate", headers=auth("not-the-key"))
        assert wrong.status_code == 403 and wrong.json()["error"] == "invalid_api_key"
        basic = client.post(f"/v1/models/{SECOND}/activate", headers={"Authorization": f"Basic {API_KEY}"})
        assert basic.status_code == 401
        assert client.get("/v1/models").json()["served"] != SECOND, "refused requests change nothing"
        assert client.post(f"/v1/models/{SECOND}/activate", headers=auth()).status_code == 200
        assert client.post(f"/v1/models/{SECOND}/activate", headers={"X-API-Key": API_KEY}).status_code == 200


def test_without_configured_keys_writes_are_closed_and_say_how_to_open_them(home: Path) -> None:
    with serving(make_settings(home, api_key_hashes="")) as client:
        for headers in ({}, auth()):
            response = client.post(f"/v1/models/{SECOND}/activate", headers=headers)
            assert response.status_code == 403
            assert "framelens hash-key" in response.json()["detail"]
            assert "FRAMELENS_API_KEY_HASHES" in response.json()["detail"]
        assert client.post("/v1/classify", json={"text": PASSAGE}).status_code == 200, "reads stay open"


def test_reads_can_be_keyed_by_a_setting(trained_home: Path) -> None:
    with serving(make_settings(trained_home, require_key_for_reads=True)) as client:
        assert client.post("/v1/classify", json={"text": PASSAGE}).status_code == 401
        assert client.get("/v1/scheme", headers=auth("wrong")).status_code == 403
        assert client.get("/v1/models", headers={"X-API-Key": API_KEY}).status_code == 200
        assert client.post("/v1/classify", json={"text": PASSAGE}, headers=auth()).status_code == 200
        assert client.post("/v1/classify", json={"text": PASSAGE}, headers={"X-API-Key": API_KEY}).status_code == 200
        assert client.post("/v1/classify", json={"text": PASSAGE}, headers=auth("wrong")).status_code == 403
        assert client.get("/metrics").status_code == 401
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


def test_hash_key_prints_the_hash_the_server_accepts(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-key", "my-newsroom-key"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == hashlib.sha256(b"my-newsroom-key").hexdigest()
    with serving(make_settings(home, api_key_hashes=f"{'0' * 64}, {printed.upper()}")) as client:
        ok = client.post(f"/v1/models/{SECOND}/activate", headers={"X-API-Key": "my-newsroom-key"})
        assert ok.status_code == 200


def test_docs_show_how_to_authenticate(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schema["components"]["securitySchemes"])
    assert schema["paths"]["/v1/models/{version}/activate"]["post"]["security"]
    assert "security" not in schema["paths"]["/v1/classify"]["post"]
    assert client.get("/docs").status_code == 200
