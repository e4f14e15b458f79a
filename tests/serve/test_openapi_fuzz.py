"""Property-based run against the service's own OpenAPI schema: no 5xx, no response that breaks the schema."""

from __future__ import annotations

import shutil
import time
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

# Bounded: 100 generated requests in all, valid and invalid ones, seconds on the tiny model.
BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# Every other built-in check runs (5xx, status codes, content types, response bodies and headers, invalid data
# rejected). Schema-valid data may still be refused by rules the static schema cannot know: the served model's
# frame names and the FRAMELENS_MAX_* limits; those answers are 4xx and are checked against the schema too.
SKIP = [positive_data_acceptance]


@pytest.fixture(scope="module")
def api_schema(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    # A private copy: keyed write routes (examples, retrain jobs) must not touch the session's shared registry.
    home = Path(shutil.copytree(trained_home, tmp_path_factory.mktemp("fuzz") / "home"))
    app = create_app(make_settings(home))
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    with asgi.get_client(app) as client:  # loading the schema started the app; wait for its model
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    return loaded


def both_modes(target: Any) -> st.SearchStrategy[Any]:
    return st.one_of(target.as_strategy(GenerationMode.POSITIVE), target.as_strategy(GenerationMode.NEGATIVE))


def test_classify_never_fails_and_answers_by_its_schema(api_schema: Any) -> None:
    @BOUNDED
    @given(case=both_modes(api_schema["/v1/classify"]["POST"]))
    def run(case: Any) -> None:
        case.call_and_validate(excluded_checks=SKIP)

    run()


def test_every_route_never_fails_and_answers_by_its_schema(api_schema: Any) -> None:
    @BOUNDED
    @given(case=both_modes(api_schema), keyed=st.booleans())
    def run(case: Any, keyed: bool) -> None:
        case.call_and_validate(headers=auth() if keyed else None, excluded_checks=SKIP)

    run()
