"""Fine-tuning: AdamW with warm-up, frames and stance trained together, early stopping on dev macro-F1."""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from torch import nn
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from framelens.model.artifact import Artifact, NetworkSpec, build_network
from framelens.model.backends import select_device
from framelens.model.calibration import Calibration
from framelens.model.encoding import WindowRef, clip_target, encode
from framelens.model.errors import FramelensError
from framelens.model.inference import make_documents
from framelens.model.network import FrameStanceNet, aggregate_windows, keep_first_layers
from framelens.model.scheme import Scheme
from framelens.model.windows import Document
from framelens.training.calibration import fit_calibration
from framelens.training.config import TrainingConfig
from framelens.training.distill import soft_loss, teacher_logits
from framelens.training.examples import Example
from framelens.training.scoring import collect_raw, frame_gold, metrics_from_raw, selection_score
from framelens.training.window_calibration import calibrate_windows

# Dev scores closer than this count as a tie, which the later epoch wins: it has seen more data at a lower learning
# rate. On a 165-passage dev split one passage moves macro-F1 by about 0.01, so smaller gaps are not evidence.
SELECTION_TIE = 0.005


@dataclass(frozen=True)
class _Norms:
    """What a batch's mean losses divide by, so a batch split into passes sums to exactly the same loss."""

    framed: int  # documents with frame labels
    stance: float  # the summed class weights of the (document, target) pairs the heads read
    paired: float = 0.0  # the same for the pairs the paired head reads
    read: int = 0  # documents with at least one window (what the distillation loss averages over)


@dataclass
class TrainedModel:
    net: FrameStanceNet
    tokenizer: Any
    spec: NetworkSpec
    calibration: Calibration
    dev_metrics: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    elapsed_s: float = 0.0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class _Batcher:
    """Builds the loss for one batch of documents: frames on windows, stance on (target, window) pairs."""

    def __init__(
        self,
        net: FrameStanceNet,
        tokenizer: Any,
        spec: NetworkSpec,
        scheme: Scheme,
        examples: list[Example],
        docs: list[Document],
        config: TrainingConfig,
        device: torch.device,
        teacher: torch.Tensor | None = None,
    ) -> None:
        self.net, self.tokenizer, self.spec, self.scheme = net, tokenizer, spec, scheme
        self.teacher = teacher.to(device) if teacher is not None else None  # soft targets per document
        self.examples, self.docs, self.config, self.device = examples, docs, config, device
        self.gold = torch.tensor(frame_gold(scheme, examples), dtype=torch.float32)
        self.rng = random.Random(config.seed)
        self.bce = nn.BCEWithLogitsLoss(pos_weight=self._pos_weight()).to(device)
        self.ce = nn.CrossEntropyLoss(weight=self._class_weight()).to(device)
        self.bce_sum = nn.BCEWithLogitsLoss(pos_weight=self.bce.pos_weight, reduction="sum")
        self.ce_sum = nn.CrossEntropyLoss(weight=self.ce.weight, reduction="sum")
        self.gold = self.gold.to(device)
        self._chosen_pairs: dict[int, list[tuple[str, str]]] = {}
        # Paired and hybrid models train the (target, text) head; hybrid ones on every labelled target, the
        # scheme's own included, so the paired head learns what stance is from all the data it has.
        self.paired = spec.paired_stance and scheme.has_stance

    def _pos_weight(self) -> torch.Tensor:
        labelled = self.gold[[i for i, e in enumerate(self.examples) if e.frames_labelled]]
        pos = labelled.sum(0)
        neg = len(labelled) - pos
        # Rare frames weigh more, but capped: a frame seen twice should not dominate the loss.
        return torch.clamp(neg / pos.clamp(min=1.0), 1.0, self.config.max_pos_weight)

    def _class_weight(self) -> torch.Tensor | None:
        if not self.scheme.has_stance:
            return None
        counts = np.ones(len(self.scheme.stance_labels))
        for ex in self.examples:
            for label in ex.stance.values():
                counts[self.scheme.stance_labels.index(label)] += 1
        weights = counts.sum() / (len(counts) * counts)
        return torch.tensor(np.clip(weights, 0.25, 4.0), dtype=torch.float32)

    def _windows(self, doc: int) -> list[int]:
        ids = list(range(len(self.docs[doc].windows)))
        if len(ids) > self.config.max_train_windows:
            ids = sorted(self.rng.sample(ids, self.config.max_train_windows))
        return ids

    def _stance_pairs(self, doc: int) -> list[tuple[str, str]]:
        """The (target, label) pairs trained this step; a random subset when passages carry many targets."""
        if doc in self._chosen_pairs:  # drawn once for a step that runs in several passes
            return self._chosen_pairs[doc]
        pairs = sorted(self.examples[doc].stance.items())
        fixed = self.spec.stance_targets
        if fixed:  # hybrid: the heads learn the scheme's targets; the paired head mostly the others
            others = [p for p in pairs if p[0] not in fixed]
            if others or self.rng.random() >= self.config.own_target_pairs:
                pairs = others
        limit = self.config.stance_pairs_per_example
        if limit and len(pairs) > limit:
            pairs = self.rng.sample(pairs, limit)
        return pairs

    def _on_device(self, values: list[int]) -> torch.Tensor:
        return torch.tensor(values, device=self.device)

    def _forward(self, head: str, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """Window logits of one head; on a GPU the encoder runs in bf16 autocast, the loss stays fp32."""
        moved = {k: v.to(self.device, non_blocking=True) for k, v in tensors.items()}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            out = self.net.frames(moved) if head == "frames" else self.net.stance(moved)
        return out.logits.float()

    def step(self, rows: list[int]) -> float:
        """Back-propagate the batch's loss and return its value. A batch with more windows than
        `max_windows_per_pass` goes through the encoder in several passes (less memory at once); the passes'
        losses are divided by the whole batch's normalisers, so the gradients are those of one pass."""
        parts = self._parts(rows)
        if len(parts) == 1:
            return self._backward(self.loss(rows))
        if self.paired:
            self._chosen_pairs = {d: self._stance_pairs(d) for d in rows}
        try:
            norms = self._norms(rows)
            return sum(self._backward(self.loss(part, norms)) for part in parts)
        finally:
            self._chosen_pairs = {}

    @staticmethod
    def _backward(loss: torch.Tensor) -> float:
        if loss.requires_grad:
            loss.backward()
        return float(loss.detach())

    def _parts(self, rows: list[int]) -> list[list[int]]:
        """Consecutive documents, grouped so each pass stays within `max_windows_per_pass` windows."""
        parts: list[list[int]] = [[]]
        used = 0
        for d in rows:
            windows = min(len(self.docs[d].windows), self.config.max_train_windows)
            cost = windows * (1 + (len(self.examples[d].stance) if self.paired else 0))
            if parts[-1] and used + cost > self.config.max_windows_per_pass:
                parts.append([])
                used = 0
            parts[-1].append(d)
            used += cost
        return parts

    def _norms(self, rows: list[int]) -> _Norms:
        read = [d for d in rows if self.docs[d].windows]
        framed = [d for d in read if self.examples[d].frames_labelled] if self.scheme.has_frames else []
        fixed = set(self.spec.stance_targets)
        heads, pairs = [], []
        if self.scheme.has_stance:
            heads = [lab for d in read for t, lab in self.examples[d].stance.items() if t in fixed]
            pairs = [lab for d in read for _, lab in self._stance_pairs(d)] if self.paired else []
        return _Norms(len(framed), self._weighted(heads), self._weighted(pairs), len(read))

    def _weighted(self, labels: list[str]) -> float:
        weight = self.ce.weight
        ids = [self.scheme.stance_labels.index(lab) for lab in labels]
        return float(weight[ids].sum()) if weight is not None and ids else float(len(ids))

    def _frames_loss(self, logits: torch.Tensor, gold: torch.Tensor, norms: _Norms | None) -> torch.Tensor:
        if norms is None:
            return self.bce(logits, gold)
        return self.bce_sum(logits, gold) / (norms.framed * gold.shape[1])

    def _stance_loss(
        self, logits: torch.Tensor, gold: torch.Tensor, norms: _Norms | None, paired: bool = False
    ) -> torch.Tensor:
        if norms is None:
            return self.ce(logits, gold)
        return self.ce_sum(logits, gold) / (norms.paired if paired else norms.stance)

    def loss(self, rows: list[int], norms: _Norms | None = None) -> torch.Tensor:
        """The batch's loss (means over its documents and pairs), or with `norms` this part's share of it."""
        plain = self._one_pass_loss if self.spec.stance_targets else self._frames_only_loss
        total = plain(rows, norms)
        if self.paired:
            total = total + self._paired_loss(rows, norms)
        return total

    def _frames_only_loss(self, rows: list[int], norms: _Norms | None) -> torch.Tensor:
        """Paired mode's plain pass: frames alone."""
        total = torch.zeros((), device=self.device)
        framed = [d for d in rows if self.examples[d].frames_labelled and self.docs[d].windows]
        if self.scheme.has_frames and framed:
            refs = [WindowRef(d, w) for d in framed for w in self._windows(d)]
            enc = encode(self.tokenizer, self.docs, refs, self.spec.max_length)
            logits = self._forward("frames", enc.tensors)
            local = {d: i for i, d in enumerate(framed)}
            index = self._on_device([local[r.doc] for r in refs])
            doc_logits = aggregate_windows(logits, index, len(framed), self.spec.aggregation)
            total = total + self._frames_loss(doc_logits, self.gold[framed], norms)
        return total

    def _paired_loss(self, rows: list[int], norms: _Norms | None) -> torch.Tensor:
        """The (target, text) head on the step's sampled pairs."""
        total = torch.zeros((), device=self.device)
        pairs = [(d, t, lab) for d in rows if self.docs[d].windows for t, lab in self._stance_pairs(d)]
        if self.scheme.has_stance and pairs:
            refs, targets, owner = [], [], []
            for k, (d, target, _) in enumerate(pairs):
                clipped = clip_target(self.tokenizer, target, self.spec.target_reserve)
                for w in self._windows(d):
                    refs.append(WindowRef(d, w))
                    targets.append(clipped)
                    owner.append(k)
            enc = encode(self.tokenizer, self.docs, refs, self.spec.max_length, targets)
            logits = self._forward("stance", enc.tensors)
            pair_logits = aggregate_windows(logits, self._on_device(owner), len(pairs), "mean")
            gold = self._on_device([self.scheme.stance_labels.index(lab) for _, _, lab in pairs])
            total = total + self.config.stance_weight * self._stance_loss(pair_logits, gold, norms, paired=True)
        return total

    def _one_pass_loss(self, rows: list[int], norms: _Norms | None) -> torch.Tensor:
        """Heads mode: one pass over each window gives frame logits and every target's stance logits."""
        total = torch.zeros((), device=self.device)
        read = [d for d in rows if self.docs[d].windows]
        if not read:
            return total
        refs = [WindowRef(d, w) for d in read for w in self._windows(d)]
        enc = encode(self.tokenizer, self.docs, refs, self.spec.max_length, with_sentences=False)
        logits = self._forward("frames", enc.tensors)
        local = {d: i for i, d in enumerate(read)}
        index = self._on_device([local[r.doc] for r in refs])
        n_frames, n_labels = self.net.n_frames, len(self.scheme.stance_labels)
        framed = [i for i, d in enumerate(read) if self.examples[d].frames_labelled]
        doc_frames = (
            aggregate_windows(logits[:, :n_frames], index, len(read), self.spec.aggregation)
            if n_frames
            else logits.new_zeros((len(read), 0))
        )
        if n_frames and framed:
            total = total + self._frames_loss(doc_frames[framed], self.gold[[read[i] for i in framed]], norms)
        targets = self.spec.stance_targets
        stance = aggregate_windows(logits[:, n_frames:], index, len(read), "mean").view(len(read), len(targets), -1)
        if self.teacher is not None:
            soft = soft_loss(doc_frames, stance, self.teacher[read], n_frames, self.config.stance_weight)
            total = total + self.config.distill_weight * soft / (norms.read if norms else len(read))
        pairs = [
            (i, targets.index(t), lab)
            for i, d in enumerate(read)
            for t, lab in self.examples[d].stance.items()
            if t in targets  # a hybrid model's other targets go to the paired head
        ]
        if n_labels and pairs:
            chosen = stance[[i for i, _, _ in pairs], [k for _, k, _ in pairs]]
            gold = self._on_device([self.scheme.stance_labels.index(lab) for _, _, lab in pairs])
            total = total + self.config.stance_weight * self._stance_loss(chosen, gold, norms)
        return total


def training_device(config: TrainingConfig) -> torch.device:
    if config.device == "auto":
        return select_device()
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise FramelensError(f"device {config.device!r} asked for, but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    return torch.device(config.device)


def stance_targets_for(config: TrainingConfig, scheme: Scheme, examples: list[Example]) -> tuple[tuple[str, ...], bool]:
    """(the targets a new network reads stance toward in one pass, whether the paired head is trained too).
    ((), True) is paired stance; (targets, False) heads; (targets, True) hybrid. In heads mode, data labelled
    toward other targets is refused afterwards, by `_check_targets`."""
    if not scheme.has_stance or config.stance_mode == "paired":
        return (), True
    fixed = tuple(scheme.default_targets)
    outside = {t for ex in examples for t in ex.stance} - set(fixed)
    if config.stance_mode == "auto":
        return (fixed, bool(outside)) if fixed else ((), True)
    if not fixed:
        raise FramelensError(
            f"stance_mode {config.stance_mode!r} needs stance targets in scheme {scheme.name!r}; it lists none"
        )
    return fixed, config.stance_mode == "hybrid"


def _opens_targets(config: TrainingConfig, spec: NetworkSpec) -> bool:
    """Whether a heads-only version, continued with stance_mode 'hybrid', gains the paired path: its heads go on
    as they were and the (target, text) head it always carried, untrained until now, learns any other target. That
    is bootstrap's opt-in second stage (seeds/ukraine-war/hybrid-recipe.json), distilled from the first."""
    return config.stance_mode == "hybrid" and bool(spec.stance_targets)  # a paired model answers any target already


def _check_targets(spec: NetworkSpec, examples: list[Example]) -> None:
    if not spec.stance_targets or spec.open_targets:
        return
    for ex in examples:
        outside = sorted(set(ex.stance) - set(spec.stance_targets))
        if outside:
            raise FramelensError(
                f"example {ex.id!r}: stance target(s) {outside} are not ones this model reads "
                f"({list(spec.stance_targets)}); train a new model with stance_mode 'hybrid' for open-ended targets"
            )


def length_bucketed(shuffled: Dataset, batch_size: int, bucket_batches: int = 20) -> list[list[int]]:
    """Batches of similar length (less padding, faster steps), still in a random order each epoch."""
    rows, lengths = shuffled["row"], shuffled["length"]
    span = batch_size * bucket_batches
    batches: list[list[int]] = []
    for first in range(0, len(rows), span):
        chunk = sorted(range(first, min(first + span, len(rows))), key=lambda i: lengths[i])
        batches += [[rows[i] for i in chunk[k : k + batch_size]] for k in range(0, len(chunk), batch_size)]
    random.Random(len(rows) + int(rows[0]) if rows else 0).shuffle(batches)
    return batches


def fine_tune(
    config: TrainingConfig,
    scheme: Scheme,
    train: list[Example],
    dev: list[Example],
    encoder_dir: Path | None = None,
    start: Artifact | None = None,
    progress: bool = True,
    teacher: Artifact | None = None,
) -> TrainedModel:
    """Train from a base encoder (`encoder_dir`) or continue from an existing version (`start`). With
    `distill_weight`, the soft targets come from `teacher` when given, else from `start`."""
    began = time.monotonic()
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    device = training_device(config)
    labelled = sorted({t for ex in train for t in ex.stance})
    if start is not None:
        net, tokenizer, spec = start.net, start.tokenizer, start.spec
        spec = dataclasses.replace(
            spec,
            trained_targets=tuple(sorted({*spec.trained_targets, *labelled})),
            open_targets=spec.open_targets or _opens_targets(config, spec),
        )
    else:
        assert encoder_dir is not None
        fixed, open_targets = stance_targets_for(config, scheme, train + dev)
        spec = NetworkSpec(
            str(encoder_dir),
            config.max_length,
            config.overlap_tokens,
            config.target_reserve,
            config.aggregation,
            config.dropout,
            fixed,
            open_targets=bool(fixed) and open_targets,
            trained_targets=tuple(labelled),
            paragraph_windows=config.paragraph_windows,
        )
        net, tokenizer = build_network(encoder_dir, scheme, spec)
    texts = [e.text for e in train]
    docs = make_documents(texts, tokenizer, spec, scheme.has_stance)
    # A separate teacher reads the passages in its own windows; the starting version reads them as `docs` does.
    teacher_docs = (
        docs if teacher is None else make_documents(texts, teacher.tokenizer, teacher.spec, scheme.has_stance)
    )
    soft_targets = _soft_targets(config, scheme, teacher or start, spec, teacher_docs, device)
    if config.encoder_layers:
        try:
            keep_first_layers(net.encoder, config.encoder_layers)
        except ValueError as exc:
            raise FramelensError(f"training config: {exc}") from None
    _check_targets(spec, train + dev)
    net.to(device)
    batcher = _Batcher(net, tokenizer, spec, scheme, train, docs, config, device, soft_targets)
    rows = Dataset.from_dict(
        {"row": list(range(len(train))), "length": [d.windows[-1].end if d.windows else 0 for d in docs]}
    )
    steps_per_epoch = (len(train) + config.batch_size - 1) // config.batch_size
    head_params = list(net.frames_head.parameters()) + list(net.stance_head.parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": net.encoder.parameters(), "lr": config.learning_rate},
            {"params": head_params, "lr": config.head_learning_rate},
        ],
        weight_decay=config.weight_decay,
    )
    total_steps = steps_per_epoch * config.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    best_state, best_score, best_epoch, stale = None, -1.0, 0, 0
    history: list[dict[str, float]] = []
    bar = tqdm(total=total_steps, desc="fine-tuning", unit="step", disable=not progress, dynamic_ncols=True)
    for epoch in range(1, config.epochs + 1):
        net.train()
        losses = []
        for batch in length_bucketed(rows.shuffle(seed=config.seed + epoch), config.batch_size):
            optimizer.zero_grad(set_to_none=True)
            losses.append(batcher.step(batch))
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{np.mean(losses[-20:]):.4f}")
        score = -float(np.mean(losses))
        record = {"epoch": epoch, "train_loss": float(np.mean(losses))}
        if dev:
            raw = collect_raw(net, tokenizer, spec, scheme, dev, config.eval_batch_size, device)
            metrics = metrics_from_raw(raw, _calibrate(scheme, raw), scheme)
            score = selection_score(metrics)
            record["dev_score"] = score
            bar.set_postfix(epoch=epoch, loss=f"{record['train_loss']:.4f}", dev=f"{score:.3f}")
        history.append(record)
        if score >= best_score - SELECTION_TIE:  # a tie goes to the later epoch
            best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if score > best_score:
            best_score, stale = score, 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    calibration, dev_metrics = Calibration(), {}
    if dev:
        raw = collect_raw(net, tokenizer, spec, scheme, dev, config.eval_batch_size, device)
        calibration = _calibrate(scheme, raw)
        calibration = calibrate_windows(
            net, tokenizer, spec, scheme, dev, raw, calibration, config.seed, config.eval_batch_size, device
        )
        dev_metrics = metrics_from_raw(raw, calibration, scheme)
    net.to("cpu")  # what is saved, exported and served next starts from the CPU whatever trained it
    return TrainedModel(net, tokenizer, spec, calibration, dev_metrics, history, best_epoch, time.monotonic() - began)


def _soft_targets(
    config: TrainingConfig,
    scheme: Scheme,
    teacher: Artifact | None,
    spec: NetworkSpec,
    docs: list[Document],
    device: torch.device,
) -> torch.Tensor | None:
    """The teacher's logits on the training passages, when the config distils: `teacher` is `distill_from`'s
    version, or else the version training starts from (taken before any layer is cut)."""
    if not config.distill_weight:
        return None
    if teacher is None:
        raise FramelensError(
            "distill_weight needs init_from a model version (its predictions are the soft targets) "
            f"or distill_from one; {config.init_from!r} is an encoder"
        )
    if scheme.has_stance and not teacher.spec.stance_targets:
        raise FramelensError("distill_weight needs a teacher whose stance is read by heads (stance_mode heads/hybrid)")
    if teacher.spec.stance_targets != spec.stance_targets:
        raise FramelensError(
            f"the teacher's stance heads read {list(teacher.spec.stance_targets)}, this model's "
            f"{list(spec.stance_targets)}: distil from a version with the same targets"
        )
    return teacher_logits(teacher.net, teacher.tokenizer, teacher.spec, docs, config.eval_batch_size, device)


def _calibrate(scheme: Scheme, raw: Any) -> Calibration:
    return fit_calibration(scheme.frame_names, raw.frame_logits, raw.frame_gold, raw.stance_logits, raw.stance_gold)
