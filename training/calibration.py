"""Fit calibration on dev: Platt scaling and an F1-best threshold per frame, a temperature for stance."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from model.calibration import Calibration

_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def fit_platt(logits: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Slope and intercept mapping one frame's logits to calibrated probabilities (identity if too few)."""
    positives = int(gold.sum())
    if positives < 3 or positives > len(gold) - 3:
        return (1.0, 0.0)
    model = LogisticRegression(C=10.0).fit(logits.reshape(-1, 1), gold)
    slope, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
    return (slope, intercept) if slope > 0 else (1.0, 0.0)


def best_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    """The threshold with the best F1; among near-ties the one nearest 0.5, which generalises better."""
    if gold.sum() == 0:
        return 0.5
    f1s = np.array([f1_score(gold, scores >= t, zero_division=0) for t in _GRID])
    good = np.flatnonzero(f1s >= f1s.max() - 1e-9)
    return float(_GRID[good[np.argmin(np.abs(_GRID[good] - 0.5))]])


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of the gold stance labels."""
    if len(gold) == 0:
        return 1.0
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.2), np.log(10.0), 121)):
        scaled = logits / t
        scaled = scaled - scaled.max(1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(1, keepdims=True))
        nll = -log_probs[np.arange(len(gold)), gold].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), float(nll)
    return best_t


def fit_calibration(
    frame_names: list[str],
    frame_logits: np.ndarray,
    frame_gold: np.ndarray,
    stance_logits: np.ndarray,
    stance_gold: np.ndarray,
) -> Calibration:
    platt: dict[str, tuple[float, float]] = {}
    thresholds: dict[str, float] = {}
    for j, name in enumerate(frame_names):
        platt[name] = fit_platt(frame_logits[:, j], frame_gold[:, j])
        calibrated = 1 / (1 + np.exp(-(frame_logits[:, j] * platt[name][0] + platt[name][1])))
        thresholds[name] = best_threshold(calibrated, frame_gold[:, j])
    temperature = fit_temperature(stance_logits, stance_gold) if len(stance_gold) else 1.0
    return Calibration(platt, thresholds, temperature)
