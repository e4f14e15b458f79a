"""Host workers: texts prepared and finished in worker processes, scored by this process's network, give the
same predictions as one process, in input order; a network that fails or a worker that dies is an error, not a
hang."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from framelens.model.backends import ONNX_INT8, TORCH
from framelens.model.errors import FramelensError
from framelens.model.host_pool import HostPool
from framelens.model.predictor import Predictor
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl
from tests.training.test_backends import TEXTS, evidence, flat, labels
from tests.training.test_fine_tune import tiny_config


@pytest.fixture(scope="module")
def version(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("host-pool")
    data = write_jsonl(root / "tiny.jsonl", tiny_rows())
    return train_version([data], TINY_SCHEME, tiny_config(tiny_encoder, epochs=15), Registry(root / "m")).path


@pytest.fixture(scope="module", params=[TORCH, ONNX_INT8])
def pool(request: pytest.FixtureRequest, version: Path) -> Iterator[tuple[Predictor, HostPool]]:
    predictor = Predictor.load(version, backend=request.param, threads=1)
    with HostPool(version, predictor.net, workers=2, batch_size=4) as host_pool:
        yield predictor, host_pool


def test_workers_give_the_predictions_of_one_process_in_order(pool: tuple[Predictor, HostPool]) -> None:
    predictor, host_pool = pool
    texts = TEXTS * 3
    alone = predictor.classify(texts)
    pooled = host_pool.classify(texts, part_size=5)  # parts of 5 over 2 workers: several rounds, out of step
    np.testing.assert_allclose(flat(pooled), flat(alone), atol=2e-6, rtol=0)
    assert labels(pooled) == labels(alone) and evidence(pooled) == evidence(alone)
    assert [p.windows for p in pooled] == [p.windows for p in alone]
    plain = host_pool.classify(texts[:4], evidence=False, targets=["Ukraine"])
    assert all(not f.evidence for p in plain for f in p.frames) and all(list(p.stance) == ["Ukraine"] for p in plain)


def test_a_bad_request_is_the_callers_error(pool: tuple[Predictor, HostPool]) -> None:
    with pytest.raises(FramelensError, match="empty"):
        pool[1].classify(["fine text.", "  "])
    assert len(pool[1].classify(["still serving after that."])) == 1


class FailingNet:
    """A network that raises on every forward pass."""

    def __init__(self, net: Any) -> None:
        self.n_frames, self.n_stance, self.head_bias = net.n_frames, net.n_stance, net.head_bias

    def frames(self, batch: Any) -> Any:
        raise RuntimeError("out of memory (simulated)")

    stance = frames


def _pid(_predictor: Any, _part: int) -> int:
    return os.getpid()


def _kill_self(_predictor: Any, _part: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_failing_network_or_a_dead_worker_is_an_error_not_a_hang(version: Path) -> None:
    predictor = Predictor.load(version, threads=1)
    with HostPool(version, FailingNet(predictor.net), workers=1) as host_pool:  # type: ignore[arg-type]
        with pytest.raises(FramelensError, match="out of memory"):
            host_pool.classify(TEXTS[:2])
        assert len(set(host_pool.map(_pid, range(4)))) == 1
        with pytest.raises(FramelensError, match="worker process died"):
            host_pool.map(_kill_self, [0])
