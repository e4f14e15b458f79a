"""The one set of training arguments; a version stores the config that made it. Unknown keys are errors."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from framelens.model.encoders import DEFAULT_ENCODER
from framelens.model.errors import FramelensError


@dataclass(frozen=True)
class TrainingConfig:
    init_from: str = DEFAULT_ENCODER  # an encoder name or directory, "active", or a model version id
    epochs: int = 6
    learning_rate: float = 2e-4
    head_learning_rate: float = 4e-3
    batch_size: int = 16
    max_length: int = 256
    overlap_tokens: int = 48
    target_reserve: int = 24
    aggregation: str = "max"
    # Windows end at paragraph breaks: an article is read about a paragraph a window, as passages are in training.
    paragraph_windows: bool = True
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    patience: int = 2
    seed: int = 13
    max_train_windows: int = 8
    # Windows that go through the encoder together in training; a batch with more is run in several passes with
    # the same gradients (memory: whole articles at batch 8 x 8 windows x 256 tokens peaked at 7.9 GB in one pass).
    max_windows_per_pass: int = 32
    # Each stance target costs one more encoder pass per passage; sampling one per step halves the cost of
    # training on two-target data while every pair is still seen about epochs/2 times. 0 trains all pairs.
    stance_pairs_per_example: int = 1
    # "heads": stance toward the scheme's own targets read from the plain pass (one encoder pass per passage for
    # frames and every target); "paired": a (target, text) pass per target, for open-ended targets; "hybrid": heads
    # for the scheme's targets and the paired head trained too, so any other target is answered; "auto": heads
    # when every labelled target is one of the scheme's, hybrid when the data labels others as well.
    stance_mode: str = "auto"
    # Hybrid: the share of passages labelled only toward the scheme's own targets whose pairs also train the
    # paired head in a step (it always trains on the other targets); more transfers better, each costs a pass.
    own_target_pairs: float = 0.25
    stance_weight: float = 0.5
    dropout: float = 0.1
    max_pos_weight: float = 8.0
    threads: int = 2
    eval_batch_size: int = 64
    # "auto": a CUDA GPU when torch sees one (encoder in bf16 autocast), else the CPU. The saved version is the
    # same either way: weights are moved back to the CPU before they are written.
    device: str = "auto"
    # Keep only the encoder's first N transformer layers (0: all). From a version, that makes a smaller, faster
    # student that starts from the teacher's own fine-tuned layers and heads; dropping top layers and fine-tuning
    # was the best of the pruning strategies in Sajjad et al., "On the effect of dropping layers of pre-trained
    # transformer models" (2023).
    encoder_layers: int = 0
    # > 0: also learn from the starting version's own predictions on the training passages (soft targets, taken
    # before any layer is cut), with this weight beside the gold labels' loss. Needs init_from a version, or:
    distill_weight: float = 0.0
    # The version (an id or "active") whose predictions are the soft targets, when it is not the one training
    # starts from: a model trained afresh from the encoder can still learn from a version of the same scheme
    # ("" = the init_from version). Its stance heads must read the same targets as the new model's.
    distill_from: str = ""

    def __post_init__(self) -> None:
        if self.stance_mode not in ("auto", "heads", "paired", "hybrid"):
            raise FramelensError(f"stance_mode must be 'auto', 'heads', 'paired' or 'hybrid', got {self.stance_mode!r}")
        if self.aggregation not in ("max", "mean"):
            raise FramelensError(f"aggregation must be 'max' or 'mean', got {self.aggregation!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.max_windows_per_pass < 1:
            raise FramelensError("epochs, batch_size and max_windows_per_pass must be at least 1")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise FramelensError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        if self.distill_weight < 0:
            raise FramelensError(f"distill_weight must be 0 (off) or positive, got {self.distill_weight}")
        if self.distill_from and not self.distill_weight:
            raise FramelensError(
                f"distill_from {self.distill_from!r} needs distill_weight above 0 (the soft term's weight)"
            )
        if self.encoder_layers < 0:
            raise FramelensError(f"encoder_layers must be 0 (all) or a layer count, not {self.encoder_layers}")
        if not 32 <= self.max_length <= 512:
            raise FramelensError(f"max_length must be between 32 and 512, got {self.max_length}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        allowed = {f.name for f in fields(cls)}
        unknown = set(data) - allowed
        if unknown:
            raise FramelensError(f"unknown training option(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> TrainingConfig:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise FramelensError(f"{path}: cannot read training config ({exc})") from None

    def replace(self, **changes: Any) -> TrainingConfig:
        return TrainingConfig.from_dict({**asdict(self), **{k: v for k, v in changes.items() if v is not None}})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
