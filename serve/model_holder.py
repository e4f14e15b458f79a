"""The served predictor: read with `current()`, replaced whole with `swap()` (no request ever sees half a model)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from model.backends import AUTO, TORCH
from model.predictor import Predictor
from serve.metrics import Metrics
from training.backends import chosen_backend
from training.registry import Registry

log = logging.getLogger("framelens.models")


class ModelHolder:
    """Callers take `current()` once per batch, so a swap lets in-flight work finish on the old predictor.
    `backend` and `threads` say how `load` builds predictors ("auto": the fastest that passed parity)."""

    def __init__(self, predictor: Predictor | None = None, backend: str = TORCH, threads: int | None = None) -> None:
        self._predictor = predictor
        self._lock = threading.Lock()
        self.problem: str | None = "the model is loading"  # why nothing is served yet, for /readyz
        self.backend = backend
        self.threads = threads

    def backend_for(self, version_dir: Path) -> str:
        """The backend `load` uses for a version. With "auto", the first call for a version exports it to ONNX and
        checks parity (blocking); later calls read the record."""
        if self.backend != AUTO:
            return self.backend
        name = chosen_backend(version_dir, threads=self.threads)
        log.info("model %s scores with %s (the fastest backend that passed parity)", version_dir.name, name)
        return name

    def load(self, version_dir: Path) -> Predictor:
        """A predictor for a version on the configured backend (blocking: call it off the event loop)."""
        return Predictor.load(version_dir, backend=self.backend_for(version_dir), threads=self.threads)

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
