"""Offline, single-threaded, tiny models: set before anything imports torch or transformers."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest
import torch

from tests.fixtures import TINY_SCHEME, build_tiny_encoder, tiny_rows, write_jsonl

torch.set_num_threads(1)

EXTRA_TEXT = ["Ukraine", "Russia", "an unrelated weather report about rain in the city."]


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = tiny_rows()
    return build_tiny_encoder(tmp_path_factory.mktemp("encoder"), [r["text"] for r in rows] + EXTRA_TEXT)


@pytest.fixture(scope="session")
def tiny_scheme_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scheme") / "tiny.json"
    TINY_SCHEME.save(path)
    return path


@pytest.fixture()
def tiny_data(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "tiny.jsonl", tiny_rows())
