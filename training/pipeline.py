"""Labelled files -> a validated, evaluated, calibrated model version in the registry."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelens.model.artifact import Artifact, load_artifact, save_artifact
from framelens.model.backends import select_device
from framelens.model.encoders import resolve_encoder
from framelens.model.errors import FramelensError
from framelens.model.scheme import Scheme
from framelens.training.baseline import baseline_metrics
from framelens.training.config import TrainingConfig
from framelens.training.examples import Example, fingerprint, load_examples
from framelens.training.model_card import render_model_card
from framelens.training.provenance import describe_files, write_held_out
from framelens.training.registry import Registry
from framelens.training.scoring import collect_raw, metrics_from_raw
from framelens.training.splits import split_examples
from framelens.training.trainer import fine_tune, training_device


@dataclass
class TrainResult:
    version: str
    path: Path
    metrics: dict[str, Any]
    activated: bool


def load_all(files: list[str | Path], scheme: Scheme) -> list[Example]:
    """Every file is validated before any training starts; ids must be unique across files."""
    examples: list[Example] = []
    seen: dict[str, str] = {}
    for file in files:
        for ex in load_examples(file, scheme):
            if ex.id in seen:
                raise FramelensError(f"{file}: id {ex.id!r} also appears in {seen[ex.id]}; ids must be unique")
            seen[ex.id] = str(file)
            examples.append(ex)
    return examples


def starting_point(config: TrainingConfig, registry: Registry, scheme: Scheme) -> tuple[Artifact | None, Path | None]:
    """`init_from` is 'active', a version id, an encoder name or an encoder directory."""
    version = registry.active() if config.init_from == "active" else config.init_from
    if config.init_from == "active" and version is None:
        raise FramelensError("init_from='active' but no model is active; train from an encoder first")
    if version is not None and version in registry.versions():
        return _same_scheme_version(registry, version, scheme, "init_from=<encoder>"), None
    return None, resolve_encoder(config.init_from)


def distillation_teacher(config: TrainingConfig, registry: Registry, scheme: Scheme) -> Artifact | None:
    """The version `distill_from` names ('active' or an id), or None when the soft targets come from init_from."""
    if not config.distill_from:
        return None
    version = registry.active() if config.distill_from == "active" else config.distill_from
    if version is None or version not in registry.versions():
        known = ", ".join(registry.versions()[-3:]) or "none yet"
        raise FramelensError(f"distill_from {config.distill_from!r} is not a model version here (newest: {known})")
    return _same_scheme_version(registry, version, scheme, "another distill_from")


def _same_scheme_version(registry: Registry, version: str, scheme: Scheme, fix: str) -> Artifact:
    artifact = load_artifact(registry.path(version))
    if artifact.scheme.to_dict()["frames"] != scheme.to_dict()["frames"] or (
        artifact.scheme.stance_labels != scheme.stance_labels
    ):
        raise FramelensError(f"version {version} was trained on a different scheme; use {fix}")
    return artifact


def train_version(
    files: list[str | Path],
    scheme: Scheme,
    config: TrainingConfig,
    registry: Registry,
    activate: bool = True,
    progress: bool = True,
    extra: list[Example] | None = None,
    before_commit: Callable[[Path, Artifact, dict[str, list[Example]]], None] | None = None,
) -> TrainResult:
    """`before_commit(staged folder, artifact, splits)` may add files (the gate's decision) before the rename."""
    examples = load_all(files, scheme) + list(extra or [])
    parts = split_examples(examples)
    if not parts["train"]:
        raise FramelensError("no training passages after the split; add data or fix the 'split' fields")
    start, encoder_dir = starting_point(config, registry, scheme)
    teacher = distillation_teacher(config, registry, scheme)
    began = time.time()
    trained = fine_tune(config, scheme, parts["train"], parts["dev"], encoder_dir, start, progress, teacher)
    test_metrics: dict[str, Any] = {}
    device = training_device(config)
    if parts["test"]:
        raw = collect_raw(
            trained.net, trained.tokenizer, trained.spec, scheme, parts["test"], config.eval_batch_size, device
        )
        test_metrics = metrics_from_raw(raw, trained.calibration, scheme)
    metrics = {
        "test": test_metrics,
        "dev": trained.dev_metrics,
        "baseline": baseline_metrics(scheme, parts["train"], parts["dev"], parts["test"]),
        "history": trained.history,
        "test_by_file": _test_by_file(files, scheme, parts, trained, config, device),
    }
    version = registry.new_version_id()
    meta = {
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began)),
        "elapsed_s": trained.elapsed_s,
        "best_epoch": trained.best_epoch,
        "scheme": scheme.name,
        "frames": scheme.frame_names,
        "stance_labels": list(scheme.stance_labels),
        "default_targets": list(scheme.default_targets),
        "encoder": trained.spec.encoder if start is None else start.metadata.get("encoder", trained.spec.encoder),
        "init_from": config.init_from,
        "stance_targets": list(trained.spec.stance_targets),
        "stance_open_targets": trained.spec.open_targets,
        "data": {
            **describe_files(files),  # absolute paths and SHA-256: a retrain refuses seeds that moved or changed
            "fingerprint": fingerprint(examples),
            "counts": {k: len(v) for k, v in parts.items()},
        },
    }
    artifact = Artifact(trained.net, trained.tokenizer, scheme, trained.spec, trained.calibration, meta)
    with registry.stage() as staged:
        save_artifact(artifact, staged)
        write_held_out(staged, parts)  # the parity check compares F1 on these wherever the version is served
        _write_json(staged / "metrics.json", metrics)
        _write_json(staged / "training_config.json", config.to_dict())
        (staged / "MODEL_CARD.md").write_text(render_model_card(meta, metrics), encoding="utf-8")
        if before_commit is not None:
            before_commit(staged, artifact, parts)
        path = registry.commit(staged, version)
    if activate:
        registry.activate(version)
    return TrainResult(version, path, metrics, activate)


def _test_by_file(
    files: list[str | Path],
    scheme: Scheme,
    parts: dict[str, list[Example]],
    trained: Any,
    config: TrainingConfig,
    device: Any,
) -> dict[str, Any]:
    """With several data files, the test rows of each on their own, beside the baseline on the same rows: a real
    text set is not averaged into a synthetic one's figures."""
    if len(files) < 2 or not parts["test"]:
        return {}
    out: dict[str, Any] = {}
    for file in files:
        ids = {ex.id for ex in load_examples(file, scheme)}
        rows = [ex for ex in parts["test"] if ex.id in ids]
        if not rows:
            continue
        raw = collect_raw(trained.net, trained.tokenizer, trained.spec, scheme, rows, config.eval_batch_size, device)
        out[str(Path(file).resolve())] = {
            "n": len(rows),
            "model": metrics_from_raw(raw, trained.calibration, scheme),
            "baseline": baseline_metrics(scheme, parts["train"], parts["dev"], rows),
        }
    return out


def evaluate_version(
    path: Path, files: list[str | Path], baseline_files: list[str | Path] | None = None, batch_size: int = 64
) -> dict[str, Any]:
    """Metrics of a saved version on every passage of `files` (on a GPU when there is one); the baseline trains on
    `baseline_files`."""
    artifact = load_artifact(path)
    scheme = artifact.scheme
    examples = load_all(files, scheme)
    raw = collect_raw(artifact.net, artifact.tokenizer, artifact.spec, scheme, examples, batch_size, select_device())
    result: dict[str, Any] = {"model": metrics_from_raw(raw, artifact.calibration, scheme), "baseline": {}}
    if baseline_files:
        train = load_all(baseline_files, scheme)
        parts = split_examples(train)
        result["baseline"] = baseline_metrics(scheme, parts["train"] + parts["test"], parts["dev"], examples)
    return result


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
