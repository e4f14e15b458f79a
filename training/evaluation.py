"""Metrics a user reads: per-label precision/recall/F1, macro and micro F1, stance per target, calibration."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

PER_TARGET_LIMIT = 20  # beyond this many targets (free-text topics) only the pooled stance figures are kept


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(total)


def frame_metrics(
    names: list[str], gold: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None
) -> dict[str, Any]:
    if len(gold) == 0:
        return {}
    p, r, f, s = precision_recall_fscore_support(gold, predicted, average=None, zero_division=0)
    out: dict[str, Any] = {
        "per_label": {
            n: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(s[j])}
            for j, n in enumerate(names)
        },
        "macro_f1": float(f1_score(gold, predicted, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(gold, predicted, average="micro", zero_division=0)),
        "n": len(gold),
    }
    if scores is not None:
        # Each (passage, frame) score is a probability claim; ECE asks whether they come true that often.
        out["ece"] = expected_calibration_error(scores.ravel(), gold.ravel().astype(float))
    return out


def stance_metrics(labels: list[str], records: list[tuple[str, str, str, float]]) -> dict[str, Any]:
    """records: (target, gold, predicted, confidence). Pooled figures plus one row per target."""
    if not records:
        return {}
    by_target: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for target, gold, pred, conf in records:
        by_target[target].append((gold, pred, conf))
    out: dict[str, Any] = {"all": _stance_block(labels, [(g, p, c) for _, g, p, c in records])}
    if len(by_target) <= PER_TARGET_LIMIT:
        out["per_target"] = {t: _stance_block(labels, rows) for t, rows in sorted(by_target.items())}
    out["n_targets"] = len(by_target)
    return out


def _stance_block(labels: list[str], rows: list[tuple[str, str, float]]) -> dict[str, Any]:
    gold = [g for g, _, _ in rows]
    pred = [p for _, p, _ in rows]
    present = [lab for lab in labels if lab in gold]
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=present, average=None, zero_division=0)
    conf = np.array([c for _, _, c in rows])
    correct = np.array([g == q for g, q in zip(gold, pred, strict=True)], dtype=float)
    return {
        "accuracy": float(accuracy_score(gold, pred)),
        "macro_f1": float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)),
        "per_label": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(present)
        },
        "ece": expected_calibration_error(conf, correct),
        "n": len(rows),
    }


def summary_line(metrics: dict[str, Any]) -> dict[str, float]:
    """The headline figures: frames macro-F1 and stance macro-F1 (pooled and per target)."""
    line: dict[str, float] = {}
    if metrics.get("frames"):
        line["frames_macro_f1"] = metrics["frames"]["macro_f1"]
    stance = metrics.get("stance") or {}
    if stance:
        line["stance_macro_f1"] = stance["all"]["macro_f1"]
        for target, block in (stance.get("per_target") or {}).items():
            line[f"stance_macro_f1[{target}]"] = block["macro_f1"]
    return line
