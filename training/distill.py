"""Soft targets for a student: what the version training starts from predicts for each training passage.

A student cut from its teacher (`encoder_layers`) learns from the gold labels and from the teacher's own logits
(frames through a sigmoid, each scheme target's stance through a softmax), which carry how sure the teacher was
and what it confused: more per passage than a 0/1 label. Hinton et al., "Distilling the knowledge in a neural
network" (2015)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn import functional

from framelens.model.artifact import NetworkSpec
from framelens.model.backends import TorchScorer
from framelens.model.inference import ScoringNet, score_documents
from framelens.model.network import FrameStanceNet
from framelens.model.windows import Document


def teacher_logits(
    net: FrameStanceNet, tokenizer: Any, spec: NetworkSpec, docs: list[Document], batch_size: int, device: torch.device
) -> torch.Tensor:
    """[documents, frames + targets x labels]: each passage's frame logits (windows aggregated as the model does)
    and the stance logits toward each of the model's own targets, in the layout of the plain pass."""
    was_training, home = net.training, next(net.parameters()).device
    net.eval()
    scorer: ScoringNet = TorchScorer(net, device) if device.type == "cuda" else net
    targets = [list(spec.stance_targets)] * len(docs)
    scores = score_documents(scorer, tokenizer, spec, docs, targets, batch_size, evidence=False)
    net.to(home).train(was_training)  # where it was: training moves it on afterwards
    rows = [
        np.concatenate([s.frame_logits[: net.n_frames], *(s.stance_logits[t] for t in spec.stance_targets)])
        for s in scores
    ]
    return torch.tensor(np.stack(rows), dtype=torch.float32)


def soft_loss(
    frames: torch.Tensor, stance: torch.Tensor, teacher: torch.Tensor, n_frames: int, stance_weight: float
) -> torch.Tensor:
    """Summed over documents: binary cross-entropy of the student's frame logits against the teacher's
    probabilities (mean over frames), plus the stance cross-entropy against the teacher's softmax (mean over
    targets). `frames` [docs, frames], `stance` [docs, targets, labels], `teacher` as `teacher_logits` gives."""
    total = torch.zeros((), device=frames.device)
    if n_frames:
        soft = torch.sigmoid(teacher[:, :n_frames])
        per_doc = functional.binary_cross_entropy_with_logits(frames, soft, reduction="none").mean(1)
        total = total + per_doc.sum()
    if stance.shape[1]:
        soft = torch.softmax(teacher[:, n_frames:].view_as(stance), dim=-1)
        per_doc = -(soft * torch.log_softmax(stance, dim=-1)).sum(-1).mean(1)
        total = total + stance_weight * per_doc.sum()
    return total
