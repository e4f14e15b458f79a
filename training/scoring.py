"""Run a network over labelled examples and turn its raw outputs into metrics (dev, test, evaluate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from framelens.model.artifact import NetworkSpec
from framelens.model.backends import TorchScorer
from framelens.model.calibration import Calibration
from framelens.model.inference import ScoringNet, make_documents, score_documents
from framelens.model.scheme import Scheme
from framelens.training.evaluation import frame_metrics, stance_metrics
from framelens.training.examples import Example


@dataclass
class RawOutputs:
    frame_logits: np.ndarray  # [n frame-labelled examples, frames]
    frame_gold: np.ndarray
    stance_logits: np.ndarray  # [n (example, target) pairs, labels]
    stance_gold: np.ndarray  # label ids
    stance_targets: list[str]
    frame_windows: np.ndarray | None = None  # [n frame-labelled examples]: windows each was read in


def frame_gold(scheme: Scheme, examples: list[Example]) -> np.ndarray:
    gold = np.zeros((len(examples), len(scheme.frames)), dtype=np.int64)
    for i, ex in enumerate(examples):
        for f in ex.frames:
            gold[i, scheme.frame_names.index(f)] = 1
    return gold


def collect_raw(
    net: ScoringNet,
    tokenizer: Any,
    spec: NetworkSpec,
    scheme: Scheme,
    examples: list[Example],
    batch_size: int = 64,
    device: torch.device | None = None,
) -> RawOutputs:
    """`net` is the torch network being trained or any other backend (ONNX Runtime) of the same version. A torch
    network is run on `device` when that is a GPU (as the server would run it there) and left where it was."""
    module = net if isinstance(net, torch.nn.Module) else None
    was_training = module.training if module is not None else False
    scorer: ScoringNet = net
    if module is not None:
        module.eval()
        home = next(module.parameters()).device
        if device is not None and device.type == "cuda":
            scorer = TorchScorer(module, device)  # type: ignore[arg-type]
    docs = make_documents([ex.text for ex in examples], tokenizer, spec, scheme.has_stance)
    targets = [list(ex.stance) if scheme.has_stance else [] for ex in examples]
    raw = score_documents(scorer, tokenizer, spec, docs, targets, batch_size, evidence=False)
    if module is not None:
        module.to(home).train(was_training)
    labelled = [i for i, ex in enumerate(examples) if ex.frames_labelled and scheme.has_frames]
    n_frames, n_stance = len(scheme.frames), len(scheme.stance_labels)
    stance_logits, stance_gold, stance_targets = [], [], []
    for ex, scores in zip(examples, raw, strict=True):
        for target, label in ex.stance.items():
            stance_logits.append(scores.stance_logits[target])
            stance_gold.append(scheme.stance_labels.index(label))
            stance_targets.append(target)
    return RawOutputs(
        frame_logits=np.stack([raw[i].frame_logits for i in labelled]) if labelled else np.zeros((0, n_frames)),
        frame_gold=frame_gold(scheme, [examples[i] for i in labelled]) if labelled else np.zeros((0, n_frames)),
        stance_logits=np.stack(stance_logits) if stance_logits else np.zeros((0, n_stance)),
        stance_gold=np.array(stance_gold, dtype=np.int64),
        stance_targets=stance_targets,
        frame_windows=np.array([raw[i].n_windows for i in labelled], dtype=np.int64),
    )


def metrics_from_raw(raw: RawOutputs, calibration: Calibration, scheme: Scheme) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if len(raw.frame_gold):
        names = scheme.frame_names
        windows = raw.frame_windows if raw.frame_windows is not None else 1
        scores = calibration.frame_scores(raw.frame_logits, names, windows)
        predicted = (scores >= calibration.threshold_vector(names)).astype(int)
        out["frames"] = frame_metrics(names, raw.frame_gold, predicted, scores)
    if len(raw.stance_gold):
        probs = calibration.stance_scores(raw.stance_logits)
        decided = calibration.stance_decision(probs)
        labels = list(scheme.stance_labels)
        records = [
            (t, labels[g], labels[int(d)], float(p[d]))
            for t, g, p, d in zip(raw.stance_targets, raw.stance_gold, probs, decided, strict=True)
        ]
        out["stance"] = stance_metrics(labels, records)
    return out


def selection_score(metrics: dict[str, Any]) -> float:
    """One number for early stopping: the mean of frames macro-F1 and pooled stance macro-F1 present."""
    parts = []
    if metrics.get("frames"):
        parts.append(metrics["frames"]["macro_f1"])
    if metrics.get("stance"):
        parts.append(metrics["stance"]["all"]["macro_f1"])
    return float(np.mean(parts)) if parts else 0.0
