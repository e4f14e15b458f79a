"""k-fold cross-validation from a `fold` field: fine-tune per fold, report mean ± sd beside the baseline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from framelens.model.encoders import resolve_encoder
from framelens.model.errors import FramelensError
from framelens.model.scheme import Scheme
from framelens.training.baseline import baseline_metrics
from framelens.training.config import TrainingConfig
from framelens.training.pipeline import load_all
from framelens.training.scoring import collect_raw, metrics_from_raw
from framelens.training.splits import fold_split
from framelens.training.trainer import fine_tune, training_device


def cross_validate(
    files: list[str | Path],
    scheme: Scheme,
    config: TrainingConfig,
    folds: list[int] | None,
    progress: bool = True,
    on_fold: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    examples = load_all(files, scheme)
    available = sorted({ex.fold for ex in examples if ex.fold is not None})
    if len(available) < 3:
        raise FramelensError("cv needs a 'fold' field with at least 3 distinct folds on every passage")
    chosen = folds or available
    encoder_dir = resolve_encoder(config.init_from)
    device = training_device(config)
    per_fold: dict[int, dict[str, Any]] = {}
    for fold in chosen:
        parts = fold_split(examples, fold)
        trained = fine_tune(config, scheme, parts["train"], parts["dev"], encoder_dir, None, progress)
        raw = collect_raw(
            trained.net, trained.tokenizer, trained.spec, scheme, parts["test"], config.eval_batch_size, device
        )
        result = {
            "model": metrics_from_raw(raw, trained.calibration, scheme),
            "baseline": baseline_metrics(scheme, parts["train"], parts["dev"], parts["test"]),
            "elapsed_s": trained.elapsed_s,
            "best_epoch": trained.best_epoch,
        }
        per_fold[fold] = result
        if on_fold:
            on_fold(fold, result)
    return {"folds": per_fold, "summary": summarise(per_fold, scheme)}


def summarise(per_fold: dict[int, dict[str, Any]], scheme: Scheme) -> dict[str, dict[str, tuple[float, float]]]:
    """metric -> system -> (mean, sd) over the folds run."""
    keys = [f"frame {n} F1" for n in scheme.frame_names] + ["frames macro-F1", "frames micro-F1"]
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for key in keys:
        out[key] = {}
        for system in ("model", "baseline"):
            values = [_value(r[system], key) for r in per_fold.values()]
            clean = [v for v in values if v is not None]
            if clean:
                out[key][system] = (float(np.mean(clean)), float(np.std(clean)))
    return out


def _value(metrics: dict[str, Any], key: str) -> float | None:
    frames = metrics.get("frames") or {}
    if key == "frames macro-F1":
        return frames.get("macro_f1")
    if key == "frames micro-F1":
        return frames.get("micro_f1")
    label = key.removeprefix("frame ").removesuffix(" F1")
    block = (frames.get("per_label") or {}).get(label)
    return None if block is None else float(block["f1"])
