"""Property-based run against the service's own OpenAPI schema: no 5xx, no response that breaks the schema.

Bounded by default (a minute on the tiny model); FRAMELENS_FUZZ_EXAMPLES=N runs N examples per test instead, e.g.
`FRAMELENS_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest -p no:cacheprovider -s tests/serve/test_openapi_fuzz.py`."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.python import asgi

from framelens.serve.app import create_app
from tests.serve.conftest import auth, make_settings
from tests.serve.scoring.conftest import articles, write_articles

EXAMPLES = int(os.environ.get("FRAMELENS_FUZZ_EXAMPLES", "40"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# Every other built-in check runs (5xx, status codes, content types, response bodies and headers, invalid data
# rejected). Schema-valid data may still be refused by rules the static schema cannot know: the served model's
# frame names and the FRAMELENS_MAX_* limits; those answers are 4xx and are checked against the schema too.
SKIP = [positive_data_acceptance]
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def statuses() -> Iterator[Counter[int]]:
    seen: Counter[int] = Counter()
    yield seen
    failed = sum(n for status, n in seen.items() if status >= 500)
    print(f"\nschemathesis: {sum(seen.values())} requests, {failed} with status >= 500; by status {dict(seen)}")


def jobs_root(root: Path) -> Path:
    """What a path job may name: the schema's own example path, a folder of text files, and a small .tar.gz."""
    (root / "archives").mkdir(parents=True)
    write_articles(root / "archives" / "2023-q4.jsonl", articles(3))
    (root / "folder").mkdir()
    (root / "folder" / "a.txt").write_text("Ceasefire talks resumed in geneva.", encoding="utf-8")
    (root / "folder" / "out.txt").symlink_to("/etc/hostname")  # read as an error row, never followed
    (root / "loop").symlink_to(root / "loop")
    (root / "link-out").symlink_to("/etc")
    data = "".join(json.dumps(r) + "\n" for r in articles(2)).encode()
    with tarfile.open(root / "news.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("news.jsonl")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return root


@pytest.fixture(scope="module")
def api_schema(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    # A private copy: keyed write routes (examples, retrain jobs) must not touch the session's shared registry.
    base = tmp_path_factory.mktemp("fuzz")
    home = Path(shutil.copytree(trained_home, base / "home"))
    root = jobs_root(base / "root")
    app = create_app(make_settings(home, jobs_root=root, jobs_dir=base / "jobs", jobs_chunk_size=2))
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    with asgi.get_client(app) as client:  # loading the schema started the app; wait for its model
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    return loaded


def both_modes(target: Any) -> st.SearchStrategy[Any]:
    return st.one_of(target.as_strategy(GenerationMode.POSITIVE), target.as_strategy(GenerationMode.NEGATIVE))


def call(case: Any, headers: dict[str, str] | None, statuses: Counter[int]) -> None:
    try:
        response = case.call(headers=headers)
    except Exception:  # the in-process client re-raises what the app's 500 handler answered
        statuses[500] += 1
        raise
    statuses[response.status_code] += 1
    case.validate_response(response, excluded_checks=SKIP)


def test_classify_never_fails_and_answers_by_its_schema(api_schema: Any, statuses: Counter[int]) -> None:
    @BOUNDED
    @given(case=both_modes(api_schema["/v1/classify"]["POST"]))
    def run(case: Any) -> None:
        call(case, None, statuses)

    run()


def test_every_route_never_fails_and_answers_by_its_schema(api_schema: Any, statuses: Counter[int]) -> None:
    @BOUNDED
    @given(case=both_modes(api_schema), keyed=st.booleans())
    def run(case: Any, keyed: bool) -> None:
        call(case, auth() if keyed else None, statuses)

    run()


# Paths the file system refuses in ways a schema cannot say: names over 255 bytes, paths over 4,096, loops of
# links, links out of the root, a file used as a folder, NUL bytes.
AWKWARD_PATHS = st.one_of(
    st.integers(250, 600).map(lambda n: "a" * n),
    st.text(alphabet="ab/.", min_size=200, max_size=4096),
    st.sampled_from(["loop", "loop/x.jsonl", "link-out", "link-out/passwd", "archives/2023-q4.jsonl/x", "folder"]),
    st.text(max_size=30).map(lambda t: f"archives/{t}.jsonl"),
)


def test_jobs_routes_with_a_jobs_root_and_the_key_never_fail(api_schema: Any, statuses: Counter[int]) -> None:
    jobs = api_schema.include(path_regex=r"^/v1/jobs")
    post = api_schema["/v1/jobs"]["POST"]
    awkward = AWKWARD_PATHS.map(lambda p: post.Case(body={"path": p}, media_type="application/json"))

    @BOUNDED
    @given(case=st.one_of(both_modes(jobs), awkward))
    def run(case: Any) -> None:
        call(case, auth() if case.method.upper() in WRITES else None, statuses)

    run()
    assert not [s for s in statuses if s >= 500], statuses
