"""The network: one pretrained encoder, a multi-label frames head and a stance head.

Stance is read one of two ways. With targets fixed by the scheme ("heads" mode: Ukraine, Russia), the plain
pass over the text carries, after the frame logits, one block of stance logits per target: one encoder pass
gives frames and every stance. With open-ended targets ("paired" mode: a claim per topic), the stance head
reads a (target, text) pair, one pass per target.

Both heads are linear maps of mean-pooled token states. Because the mean and the map commute, a window's
logit is the average of its tokens' logits, so each sentence's share of the decision is exact and cheap:
that is where evidence comes from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel


@dataclass
class HeadOutput:
    logits: torch.Tensor  # [batch, labels]: pooled window logits
    token_logits: torch.Tensor  # [batch, tokens, labels]: per-token contributions (bias excluded)


class FrameStanceNet(nn.Module):
    """`n_fixed_targets` > 0 selects heads mode: `frames()` then returns n_frames + n_fixed_targets * n_stance
    columns (frames, then each target's stance labels) and the paired stance head goes unused."""

    def __init__(
        self, encoder: PreTrainedModel, n_frames: int, n_stance: int, dropout: float = 0.1, n_fixed_targets: int = 0
    ) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.frames_head = nn.Linear(hidden, max(n_frames + n_fixed_targets * n_stance, 1))
        self.stance_head = nn.Linear(hidden, max(n_stance, 1))
        self.n_frames = n_frames
        self.n_stance = n_stance

    def encode(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        return self.encoder(**inputs).last_hidden_state

    def _head(self, head: nn.Linear, states: torch.Tensor, mask: torch.Tensor) -> HeadOutput:
        weights = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        logits = head(self.dropout(pooled))
        token_logits = nn.functional.linear(states, head.weight) * weights
        return HeadOutput(logits, token_logits)

    def frames(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._head(self.frames_head, self.encode(batch), batch["attention_mask"])

    def stance(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._head(self.stance_head, self.encode(batch), batch["attention_mask"])

    def head_bias(self, head: str) -> np.ndarray:
        """The bias of the "frames" or "stance" head: token logits exclude it, sentence scores add it back."""
        layer = self.frames_head if head == "frames" else self.stance_head
        return layer.bias.detach().float().cpu().numpy()


def aggregate_windows(logits: torch.Tensor, doc_index: torch.Tensor, n_docs: int, how: str) -> torch.Tensor:
    """Window logits [windows, labels] -> document logits [docs, labels]; the same in training and prediction."""
    out_shape = (n_docs, logits.shape[1])
    index = doc_index.unsqueeze(1).expand_as(logits)
    if how == "max":
        init = torch.full(out_shape, float("-inf"), dtype=logits.dtype, device=logits.device)
        return init.scatter_reduce(0, index, logits, reduce="amax", include_self=True)
    if how == "mean":
        init = torch.zeros(out_shape, dtype=logits.dtype, device=logits.device)
        return init.scatter_reduce(0, index, logits, reduce="mean", include_self=False)
    raise ValueError(f"unknown aggregation {how!r}")


def keep_first_layers(encoder: PreTrainedModel, count: int) -> None:
    """Cut `encoder` to its first `count` transformer layers, in place (its config says so too, so the saved
    version loads as the smaller model). Fewer layers than it has is the only change allowed."""
    stack = getattr(encoder, "encoder", None)
    layers = getattr(stack, "layer", None)
    if stack is None or not isinstance(layers, nn.ModuleList):
        raise ValueError(f"{type(encoder).__name__} has no encoder.layer list to cut")
    if not 1 <= count <= len(layers):
        raise ValueError(f"encoder_layers={count}, but the encoder has {len(layers)} layers: keep 1 to {len(layers)}")
    stack.layer = nn.ModuleList(list(layers)[:count])
    encoder.config.num_hidden_layers = count
