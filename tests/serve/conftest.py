"""A tiny model version trained once per session, and apps served from copies of its registry."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from framelens.serve.app import create_app
from framelens.serve.auth import hash_key
from framelens.serve.settings import Settings
from framelens.training.backends import check_parity
from framelens.training.config import TrainingConfig
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl

API_KEY = "test-key-0123"
SECOND = "v20990101-000000-beef"  # a second model, trained with another seed (different scores), to activate
PASSAGE = "Ceasefire talks resumed in geneva. In Ukraine the brave defenders held firm."


def tiny_serving_config(encoder: Path) -> TrainingConfig:
    """The tiny_config pattern of tests/training, cut to a few epochs: the model only has to run."""
    return TrainingConfig.from_dict(
        {
            "init_from": str(encoder),
            "epochs": 3,
            "learning_rate": 2e-3,
            "head_learning_rate": 2e-2,
            "batch_size": 8,
            "max_length": 64,
            "overlap_tokens": 8,
            "target_reserve": 4,
            "threads": 1,
            "patience": 100,
            "warmup_ratio": 0.0,
        }
    )


@pytest.fixture(scope="session")
def trained_home(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with one trained tiny version (active) and SECOND, another model trained with another seed.
    Both carry their parity record, so the default backend ("auto") resolves as it does in production."""
    home = tmp_path_factory.mktemp("registry")
    data = write_jsonl(home.parent / "serve-data.jsonl", tiny_rows())
    registry = Registry(home)
    config = tiny_serving_config(tiny_encoder)
    result = train_version([data], TINY_SCHEME, config, registry, progress=False)
    other = Registry(home.parent / "other-registry")
    second = train_version([data], TINY_SCHEME, config.replace(seed=7), other, activate=False, progress=False)
    copy = shutil.copytree(second.path, registry.versions_dir / SECOND)
    meta = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps({**meta, "version": SECOND}))
    for version in (result.version, SECOND):
        check_parity(registry.path(version), threads=1)
    registry.activate(result.version)
    return home


@pytest.fixture(scope="session")
def first_version(trained_home: Path) -> str:
    version = Registry(trained_home).active()
    assert version is not None
    return version


@pytest.fixture()
def home(trained_home: Path, tmp_path: Path) -> Path:
    """A private copy of the registry for tests that activate versions."""
    return Path(shutil.copytree(trained_home, tmp_path / "home"))


def make_settings(home: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {
        "home": home,
        "threads": 1,
        "backend": "auto",  # what users get: the fastest backend that passed the version's parity check
        "api_key_hashes": hash_key(API_KEY),
        "require_key_for_reads": False,
        "version": None,
    }
    return Settings(**{**base, **changes})


@contextmanager
def serving(settings: Settings, ready: bool = True) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        if ready:
            wait_ready(client)
        yield client


def wait_ready(client: TestClient, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.02)


@pytest.fixture(scope="module")
def client(trained_home: Path) -> Iterator[TestClient]:
    """The shared read-only service on the tiny model (default settings, an API key configured)."""
    with serving(make_settings(trained_home)) as c:
        yield c


def auth(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
