"""Fit how frame scores depend on the number of windows an article is read in, on the dev documents and on
articles built from them (k dev passages joined as paragraphs), scored as the model serves them."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from framelens.model.artifact import NetworkSpec
from framelens.model.calibration import Calibration
from framelens.model.inference import ScoringNet
from framelens.model.scheme import Scheme
from framelens.training.articles import built_articles
from framelens.training.calibration import fit_window_slope
from framelens.training.examples import Example
from framelens.training.scoring import RawOutputs, collect_raw


def calibrate_windows(
    net: ScoringNet,
    tokenizer: Any,
    spec: NetworkSpec,
    scheme: Scheme,
    dev: list[Example],
    raw: RawOutputs,
    calibration: Calibration,
    seed: int = 0,
    batch_size: int = 64,
    device: torch.device | None = None,
) -> Calibration:
    """`calibration` with its window slope fitted; `raw` is the dev documents' scores already computed."""
    if not scheme.has_frames or not len(raw.frame_gold):
        return calibration
    parts = [raw]
    articles = built_articles(dev, seed=seed)
    if articles:
        parts.append(collect_raw(net, tokenizer, spec, scheme, articles, batch_size, device))
    logits = np.concatenate([p.frame_logits for p in parts])
    gold = np.concatenate([p.frame_gold for p in parts])
    windows = np.concatenate([p.frame_windows for p in parts if p.frame_windows is not None])
    slope = fit_window_slope(calibration, scheme.frame_names, logits, gold, windows)
    return dataclasses.replace(calibration, window_slope=slope)
