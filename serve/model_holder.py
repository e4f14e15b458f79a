"""The served predictor: read with `current()`, replaced whole with `swap()` (no request ever sees half a model)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from framelens.model.predictor import Predictor
from framelens.serve.metrics import Metrics
from framelens.serve.predictors import PredictorFactory
from framelens.training.registry import Registry


class ModelHolder:
    """Callers take `current()` once per batch, so a swap lets in-flight work finish on the old predictor.
    `factory` builds the predictors `load` returns (the same factory every face uses)."""

    def __init__(self, predictor: Predictor | None = None, factory: PredictorFactory | None = None) -> None:
        self._predictor = predictor
        self._lock = threading.Lock()
        self.problem: str | None = "the model is loading"  # why nothing is served yet, for /readyz
        self.factory = factory or PredictorFactory()

    def load(self, version_dir: Path) -> Predictor:
        """A predictor for a version (blocking: call it off the event loop)."""
        return self.factory.load(version_dir)

    def current(self) -> Predictor | None:
        return self._predictor  # one attribute read: atomic under the GIL

    @property
    def version(self) -> str | None:
        predictor = self._predictor
        return predictor.version if predictor else None

    def swap(self, predictor: Predictor) -> Predictor | None:
        """Serve `predictor` from now on; returns the one it replaced."""
        with self._lock:
            previous, self._predictor = self._predictor, predictor
            self.problem = None
        return previous

    def fail(self, problem: str) -> None:
        with self._lock:
            if self._predictor is None:
                self.problem = problem


async def activate_version(
    version: str, registry: Registry, holder: ModelHolder, metrics: Metrics, lock: asyncio.Lock
) -> tuple[Predictor, Predictor | None]:
    """Load `version` beside the served model, move the registry's active pointer, then swap it in: requests in
    flight finish on the old predictor. The activate route and retrain promotion both come through here."""
    async with lock:  # one activation at a time; requests keep flowing on the served predictor meanwhile
        predictor = await asyncio.to_thread(holder.load, registry.path(version))
        await asyncio.to_thread(registry.activate, version)
        previous = holder.swap(predictor)
        metrics.set_version(predictor.version)
    return predictor, previous
