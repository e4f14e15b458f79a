"""Calibration fitted on dev: thresholds and stance offsets only where dev has the data to support them."""

from __future__ import annotations

import numpy as np

from framelens.training.calibration import MIN_POSITIVES_OWN_THRESHOLD, best_threshold, fit_calibration, fit_stance_bias


def frames_dev(positives: int, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two frames whose logits separate the classes, the second with its positives shifted down (it needs a low
    cut), each with `positives` positives."""
    rng = np.random.default_rng(seed)
    gold = np.zeros((n, 2), dtype=np.int64)
    gold[:positives, 0] = 1
    gold[n - positives :, 1] = 1
    logits = rng.normal(-2.0, 1.0, (n, 2)) + gold * 4.0
    logits[:, 1] -= 1.5
    return logits, gold


def test_frames_share_one_threshold_unless_dev_has_enough_positives() -> None:
    empty = np.zeros((0, 3))
    few_logits, few_gold = frames_dev(positives=MIN_POSITIVES_OWN_THRESHOLD // 2)
    few = fit_calibration(["a", "b"], few_logits, few_gold, empty, np.zeros(0, dtype=np.int64))
    assert few.thresholds["a"] == few.thresholds["b"], "too few positives: one cut for all frames"

    many_logits, many_gold = frames_dev(positives=MIN_POSITIVES_OWN_THRESHOLD * 2)
    many = fit_calibration(["a", "b"], many_logits, many_gold, empty, np.zeros(0, dtype=np.int64))
    scores = many.frame_scores(many_logits, ["a", "b"])
    for j, name in enumerate(["a", "b"]):
        assert many.thresholds[name] == best_threshold(scores[:, j], many_gold[:, j]), "enough positives: its own"


def test_stance_offsets_are_kept_only_when_they_earn_their_keep() -> None:
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 3, 600)
    probs = np.full((600, 3), 0.1)
    probs[np.arange(600), gold] = 0.8
    probs /= probs.sum(1, keepdims=True)
    assert fit_stance_bias(probs, gold) == (), "argmax is already right: no offsets"

    # The model under-calls label 0: its probability sits just below neutral's on most label-0 rows.
    skewed = probs.copy()
    rows = np.flatnonzero(gold == 0)
    skewed[rows] = [0.42, 0.08, 0.5]
    offsets = fit_stance_bias(skewed, gold)
    assert offsets and offsets[0] > 0, "a large dev gain keeps an offset that favours the under-called label"
