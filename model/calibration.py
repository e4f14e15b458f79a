"""Calibration carried by a model version: per-frame Platt scaling and thresholds, stance temperature."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Calibration:
    # frame -> (slope, intercept) applied to the raw logit before the sigmoid
    frame_platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    # frame -> decision threshold on the calibrated score
    thresholds: dict[str, float] = field(default_factory=dict)
    stance_temperature: float = 1.0
    # Added to log-probabilities when choosing the stance label (tuned on dev for macro-F1, like the frame
    # thresholds); the reported probabilities stay the calibrated ones.
    stance_bias: tuple[float, ...] = ()
    # Weight of log(windows read) in every frame's calibrated logit. A document's frame logit is the max over its
    # windows, which grows with their number even where no window carries the frame; this term, fitted on
    # multi-window dev documents, puts an article's scores on the same scale as one passage's (0 for one window).
    window_slope: float = 0.0

    def frame_scores(self, logits: np.ndarray, frame_names: list[str], windows: np.ndarray | int = 1) -> np.ndarray:
        """Raw frame logits [n, frames] of documents read in `windows` windows each -> calibrated probabilities."""
        slopes = np.array([self.frame_platt.get(f, (1.0, 0.0))[0] for f in frame_names], dtype=np.float64)
        shifts = np.array([self.frame_platt.get(f, (1.0, 0.0))[1] for f in frame_names], dtype=np.float64)
        length = np.log(np.maximum(np.asarray(windows, dtype=np.float64), 1.0)).reshape(-1, 1)
        z = logits.astype(np.float64) * slopes + shifts + self.window_slope * length
        return 1.0 / (1.0 + np.exp(-z))

    def threshold_vector(self, frame_names: list[str], override: dict[str, float] | None = None) -> np.ndarray:
        merged = {**self.thresholds, **(override or {})}
        return np.array([merged.get(f, 0.5) for f in frame_names], dtype=np.float64)

    def stance_scores(self, logits: np.ndarray) -> np.ndarray:
        scaled = logits.astype(np.float64) / max(self.stance_temperature, 1e-3)
        scaled -= scaled.max(axis=-1, keepdims=True)
        exp = np.exp(scaled)
        return exp / exp.sum(axis=-1, keepdims=True)

    def stance_decision(self, probs: np.ndarray) -> np.ndarray:
        """Label index per row of calibrated stance probabilities [n, labels]."""
        scores = np.log(np.clip(probs, 1e-12, 1.0))
        if len(self.stance_bias) == scores.shape[-1]:
            scores = scores + np.asarray(self.stance_bias)
        return np.argmax(scores, axis=-1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["frame_platt"] = {k: list(v) for k, v in self.frame_platt.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            frame_platt={k: (float(v[0]), float(v[1])) for k, v in data.get("frame_platt", {}).items()},
            thresholds={k: float(v) for k, v in data.get("thresholds", {}).items()},
            stance_temperature=float(data.get("stance_temperature", 1.0)),
            stance_bias=tuple(float(b) for b in data.get("stance_bias", ())),
            window_slope=float(data.get("window_slope", 0.0)),
        )
