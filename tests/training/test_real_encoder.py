"""The same train -> save -> reload -> predict path on the real packaged encoder (all-MiniLM-L6-v2).

Marked slow; CI runs it on a small subset of the seeds so it stays around a minute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framelens.model.encoders import resolve_encoder
from framelens.model.predictor import Predictor
from framelens.model.scheme import SEEDS_DIR, Scheme
from framelens.training.config import TrainingConfig
from framelens.training.examples import load_examples
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from tests.fixtures import write_jsonl


@pytest.mark.slow
def test_minilm_fine_tune_save_reload(tmp_path: Path) -> None:
    scheme = Scheme.load("ukraine-war")
    corpus = load_examples(SEEDS_DIR / "ukraine-war" / "passages.jsonl", scheme)
    subset = [ex.to_dict() for ex in corpus if ex.split == "train"][:48]
    subset += [ex.to_dict() for ex in corpus if ex.split == "dev"][:16]
    data = write_jsonl(tmp_path / "subset.jsonl", subset)
    assert (resolve_encoder("all-MiniLM-L6-v2") / "config.json").is_file(), "the encoder ships in its package"
    config = TrainingConfig(epochs=1, batch_size=16, max_length=128, threads=1)
    result = train_version([data], scheme, config, Registry(tmp_path / "models"), progress=False)
    assert result.metrics["history"][0]["train_loss"] > 0
    texts = [ex.text for ex in corpus if ex.split == "test"][:4]
    first = Predictor.load(result.path).classify(texts)
    second = Predictor.load(result.path).classify(texts)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose([f.score for f in a.frames], [f.score for f in b.frames], atol=1e-6)
        assert a.stance["Ukraine"].label == b.stance["Ukraine"].label
        assert a.windows == 1
