"""POST /v1/suggestions scores what the caller sends: it takes the API key, and the passages it scores are capped."""

from __future__ import annotations

from pathlib import Path

from tests.serve.conftest import auth, make_settings, serving

PASSAGES = "\n".join(f"Ceasefire talks resumed in geneva, round {i}." for i in range(12))
PLAIN = {"Content-Type": "text/plain"}


def test_posting_passages_needs_the_api_key(home: Path) -> None:
    with serving(make_settings(home)) as client:
        missing = client.post("/v1/suggestions?n=2", content=PASSAGES, headers=PLAIN)
        assert missing.status_code == 401 and missing.json()["error"] == "missing_api_key", missing.text
        wrong = client.post("/v1/suggestions?n=2", content=PASSAGES, headers={**PLAIN, **auth("not-the-key")})
        assert wrong.status_code == 403 and wrong.json()["error"] == "invalid_api_key", wrong.text
        keyed = client.post("/v1/suggestions?n=2", content=PASSAGES, headers={**PLAIN, **auth()})
        assert keyed.status_code == 200 and len(keyed.json()) == 2, keyed.text
        schema = client.get("/openapi.json").json()["paths"]["/v1/suggestions"]
        assert schema["post"].get("security"), "the schema says the route takes a key"
        assert not schema["get"].get("security"), "reading the configured pool stays open"


def test_more_passages_than_a_call_scores_is_413_naming_the_setting(home: Path, tmp_path: Path) -> None:
    with serving(make_settings(home, suggest_max_pool=10)) as client:
        refused = client.post("/v1/suggestions", content=PASSAGES, headers={**PLAIN, **auth()})
        assert refused.status_code == 413, refused.text
        body = refused.json()
        assert body["error"] == "too_many_passages" and "FRAMELENS_SUGGEST_MAX_POOL" in body["detail"], body
        assert "12" in body["detail"] and "10" in body["detail"]
        fits = "\n".join(PASSAGES.splitlines()[:10])
        assert client.post("/v1/suggestions?n=3", content=fits, headers={**PLAIN, **auth()}).status_code == 200
    pool = tmp_path / "pool.txt"
    pool.write_text(PASSAGES, encoding="utf-8")
    with serving(make_settings(home, suggest_pool=pool, suggest_max_pool=5)) as client:
        tasks = client.get("/v1/suggestions?n=50").json()
        assert len(tasks) == 5, "a configured pool larger than the cap is sampled down to it"
