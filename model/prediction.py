"""What a prediction looks like: frames with calibrated scores and evidence, stance per target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Evidence:
    sentence: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class FrameResult:
    label: str
    score: float
    predicted: bool
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class StanceResult:
    label: str
    scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)
    seen_in_training: bool = True  # False: a target named at request time that no training passage labelled


@dataclass(frozen=True)
class TextPrediction:
    frames: list[FrameResult]
    stance: dict[str, StanceResult]
    windows: int
    model_version: str

    @property
    def predicted_frames(self) -> list[str]:
        return [f.label for f in self.frames if f.predicted]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
