"""The served predictor: read with `current()`, replaced whole with `swap()` (no request ever sees half a model)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from framelens.model.predictor import Predictor
from framelens.serve.metrics import Metrics
from framelens.serve.predictors import PredictorFactory
from framelens.training.registry import Registry

log = logging.getLogger("framelens.model")


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


async def follow_active(
    registry: Registry, holder: ModelHolder, metrics: Metrics, lock: asyncio.Lock, interval_s: float
) -> None:
    """Serve whatever the registry's active pointer names, as other processes move it: another server worker's
    activation or rollback, a retrain's promotion, `framelens models activate`. Checked every `interval_s`; a version
    that fails to load is logged once and skipped until the pointer moves again (the served model stays)."""
    failed: str | None = None
    while True:
        await asyncio.sleep(interval_s)
        try:
            active = await asyncio.to_thread(registry.active)
        except Exception as exc:  # a pointer being rewritten, a disk hiccup: look again next time
            log.warning("could not read the active pointer: %s", exc)
            continue
        if active is None or active == holder.version or active == failed or lock.locked():
            continue
        async with lock:
            if holder.version == active:  # an activation through this process got there first
                continue
            try:
                predictor = await asyncio.to_thread(holder.load, registry.path(active))
            except Exception as exc:
                log.error(
                    "the registry now names %s, which did not load (still serving %s): %s", active, holder.version, exc
                )
                failed = active
                continue
            holder.swap(predictor)
            metrics.set_version(predictor.version)
            failed = None
            log.info("serving %s, which the registry's active pointer now names", predictor.version)
