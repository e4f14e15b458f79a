"""A smaller student: `encoder_layers` keeps a version's first layers, trains on, and saves a smaller model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from framelens.model.errors import FramelensError
from framelens.model.predictor import Predictor
from framelens.training.distill import soft_loss
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from tests.fixtures import TINY_SCHEME
from tests.training.test_fine_tune import tiny_config


def _layers_in(version_dir: Path) -> set[int]:
    with safe_open(str(version_dir / "model.safetensors"), "pt") as weights:
        return {int(k.split(".layer.")[1].split(".")[0]) for k in weights.keys() if ".layer." in k}  # noqa: SIM118


def test_a_student_keeps_the_first_layers_of_its_teacher_and_loads_as_the_smaller_model(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "models")
    teacher = train_version([tiny_data], TINY_SCHEME, tiny_config(tiny_encoder, epochs=3), registry, progress=False)
    assert _layers_in(teacher.path) == {0, 1}
    config = tiny_config(tiny_encoder, epochs=20, init_from=teacher.version, encoder_layers=1)
    student = train_version([tiny_data], TINY_SCHEME, config, registry, progress=False)
    assert _layers_in(student.path) == {0}
    predictor = Predictor.load(student.path, backend="torch", threads=1)
    assert predictor.artifact.net.encoder.config.num_hidden_layers == 1
    assert len(predictor.artifact.net.encoder.encoder.layer) == 1
    assert student.metrics["test"]["frames"]["macro_f1"] >= 0.8  # it still learns the tiny task
    result = predictor.classify(["Aid stalled in Congress again."])[0]
    assert result.model_version == student.version and len(result.frames) == len(TINY_SCHEME.frames)


def test_keeping_more_layers_than_the_encoder_has_says_how_many_it_has(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path
) -> None:
    config = tiny_config(tiny_encoder, epochs=1, encoder_layers=5)
    with pytest.raises(FramelensError, match="has 2 layers: keep 1 to 2"):
        train_version([tiny_data], TINY_SCHEME, config, Registry(tmp_path / "models"), progress=False)


def test_the_soft_loss_is_least_where_the_student_agrees_with_its_teacher() -> None:
    torch.manual_seed(0)
    teacher = torch.randn(4, 3 + 2 * 3)  # 4 passages, 3 frames, 2 targets x 3 stance labels
    frames, stance = teacher[:, :3].clone(), teacher[:, 3:].view(4, 2, 3).clone()
    agreeing = soft_loss(frames, stance, teacher, 3, 0.5)
    for shift in (0.5, -1.0):
        assert soft_loss(frames + shift, stance, teacher, 3, 0.5) > agreeing  # frames off
    shuffled = stance[:, :, [2, 0, 1]]
    assert soft_loss(frames, shuffled, teacher, 3, 0.5) > agreeing  # stance off
    # Summed over passages: two copies of the batch cost twice as much.
    doubled = soft_loss(frames.repeat(2, 1), stance.repeat(2, 1, 1), teacher.repeat(2, 1), 3, 0.5)
    assert torch.isclose(doubled, 2 * agreeing)


def test_a_distilled_student_trains_and_distilling_from_an_encoder_says_what_is_needed(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "models")
    teacher = train_version([tiny_data], TINY_SCHEME, tiny_config(tiny_encoder, epochs=3), registry, progress=False)
    config = tiny_config(tiny_encoder, epochs=6, init_from=teacher.version, encoder_layers=1, distill_weight=1.0)
    student = train_version([tiny_data], TINY_SCHEME, config, registry, progress=False)
    history = student.metrics["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert _layers_in(student.path) == {0}
    # The soft targets are in the loss: the same run without them starts from a lower loss (same seed, batches).
    plain = train_version([tiny_data], TINY_SCHEME, config.replace(distill_weight=0.0), registry, progress=False)
    assert plain.metrics["history"][0]["train_loss"] < history[0]["train_loss"]
    with pytest.raises(FramelensError, match="distill_weight needs init_from a model version"):
        train_version([tiny_data], TINY_SCHEME, tiny_config(tiny_encoder, distill_weight=1.0), registry, progress=False)


def test_a_model_trained_from_the_encoder_can_distil_from_another_version(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "models")
    teacher = train_version([tiny_data], TINY_SCHEME, tiny_config(tiny_encoder, epochs=3), registry, progress=False)
    config = tiny_config(tiny_encoder, epochs=2, distill_weight=1.0, distill_from=teacher.version)
    distilled = train_version([tiny_data], TINY_SCHEME, config, registry, activate=False, progress=False)
    plain = train_version([tiny_data], TINY_SCHEME, config.replace(distill_weight=0.0, distill_from=""), registry)
    # Same seed and batches from the same encoder: only the teacher's soft term tells the two first epochs apart.
    assert plain.metrics["history"][0]["train_loss"] < distilled.metrics["history"][0]["train_loss"]
    with pytest.raises(FramelensError, match="distill_from 'v-none' is not a model version here"):
        train_version([tiny_data], TINY_SCHEME, config.replace(distill_from="v-none"), registry, progress=False)
    with pytest.raises(FramelensError, match="needs distill_weight above 0"):
        config.replace(distill_weight=0.0)
