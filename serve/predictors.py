"""The one way every face gets a predictor: CLI classify, score and suggest, the API, jobs and Ray actors.

Built from one settings object (`FRAMELENS_BACKEND`, `FRAMELENS_THREADS`, `FRAMELENS_DEVICE`), so the same text
gets the same scores whichever face scores it: "auto" resolves to the same recorded backend everywhere."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from framelens.model.backends import AUTO
from framelens.model.predictor import Predictor
from framelens.serve.settings import Settings
from framelens.training.backends import chosen_backend

log = logging.getLogger("framelens.models")


@dataclass(frozen=True)
class PredictorFactory:
    """`backend`: "auto" (the fastest backend that passed the version's parity check; the first use of a version
    exports it and runs that check, later uses read the record), or a backend name. `threads`: torch / ONNX
    Runtime threads. `device`: None for CUDA when present, else the CPU."""

    backend: str = AUTO
    threads: int | None = None
    device: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PredictorFactory:
        return cls(backend=settings.backend, threads=settings.threads, device=settings.device)

    def backend_for(self, version_dir: Path) -> str:
        """The backend `load` uses for a version (blocking the first time "auto" meets a version)."""
        if self.backend != AUTO:
            return self.backend
        name = chosen_backend(version_dir, threads=self.threads, device=self.device)
        log.info("model %s scores with %s (the fastest backend that passed parity)", version_dir.name, name)
        return name

    def resolved(self, version_dir: Path) -> PredictorFactory:
        """This factory with "auto" resolved for one version: what to hand to processes that load their own copy
        (Ray actors), so that none of them re-checks parity and all score alike."""
        return PredictorFactory(self.backend_for(version_dir), self.threads, self.device)

    def load(self, version_dir: Path) -> Predictor:
        """A predictor for a version (blocking: call it off the event loop)."""
        version_dir = Path(version_dir)
        return Predictor.load(
            version_dir, backend=self.backend_for(version_dir), threads=self.threads, device=self.device
        )
