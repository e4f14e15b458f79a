"""Overfit a tiny model, save it as a version, reload it, and get the same predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from framelens.model.errors import DataError, FramelensError
from framelens.model.predictor import Predictor
from framelens.training.config import TrainingConfig
from framelens.training.examples import load_examples
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from framelens.training.scoring import collect_raw
from framelens.training.trainer import fine_tune, training_device
from tests.fixtures import TINY_SCHEME, grain_deal_rows, tiny_rows, write_jsonl


def tiny_config(encoder: Path, **changes: object) -> TrainingConfig:
    base = dict(
        init_from=str(encoder),
        epochs=25,
        learning_rate=2e-3,
        head_learning_rate=2e-2,
        batch_size=8,
        max_length=64,
        overlap_tokens=8,
        target_reserve=4,
        threads=1,
        patience=100,
        warmup_ratio=0.0,
        stance_pairs_per_example=0,
    )
    return TrainingConfig.from_dict({**base, **changes})


@pytest.mark.parametrize("stance_mode", ["heads", "paired"])
def test_overfit_save_reload_predicts_the_same(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path, stance_mode: str
) -> None:
    examples = load_examples(tiny_data, TINY_SCHEME)
    config = tiny_config(tiny_encoder, stance_mode=stance_mode)
    trained = fine_tune(config, TINY_SCHEME, examples, examples, encoder_dir=tiny_encoder, progress=False)
    assert bool(trained.spec.stance_targets) == (stance_mode == "heads")
    assert trained.history[-1]["train_loss"] < 0.5 * trained.history[0]["train_loss"]
    assert trained.dev_metrics["frames"]["macro_f1"] >= 0.9
    assert trained.dev_metrics["stance"]["all"]["macro_f1"] >= 0.7  # chance is 0.33; run-to-run spread ~0.05

    registry = Registry(tmp_path / "models")
    result = train_version([tiny_data], TINY_SCHEME, config, registry, progress=False)
    assert registry.active() == result.version
    files = {p.name for p in result.path.iterdir()}
    assert {
        "model.safetensors",
        "scheme.json",
        "calibration.json",
        "metrics.json",
        "network.json",
        "training_config.json",
        "metadata.json",
        "MODEL_CARD.md",
        "tokenizer",
        "encoder",
    } <= files
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in result.path.rglob("*"))
    assert "TF-IDF" in (result.path / "MODEL_CARD.md").read_text()

    texts = [r["text"] for r in tiny_rows()[:6]]
    first = Predictor.load(result.path).classify(texts)
    again = Predictor.load(result.path).classify(texts)
    for a, b in zip(first, again, strict=True):
        assert a.predicted_frames == b.predicted_frames
        np.testing.assert_allclose([f.score for f in a.frames], [f.score for f in b.frames], atol=1e-6)
        assert {t: s.label for t, s in a.stance.items()} == {t: s.label for t, s in b.stance.items()}
    if stance_mode == "paired":  # a (target, text) model reads stance toward any target it is asked about
        (custom,) = Predictor.load(result.path).classify(texts[:1], targets=["NATO"])
        assert set(custom.stance) == {"NATO"} and custom.stance["NATO"].evidence


def test_evidence_points_into_the_text_and_long_texts_use_windows(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path
) -> None:
    result = train_version(
        [tiny_data], TINY_SCHEME, tiny_config(tiny_encoder), Registry(tmp_path / "m"), progress=False
    )
    predictor = Predictor.load(result.path)
    text = "An unrelated weather report about rain in the city. " * 12 + "A new weapons package arrived."
    weather = "An unrelated weather report about rain in the city. " * 12
    (prediction, plain) = predictor.classify([text, weather], thresholds={"military_aid": 0.01})
    assert prediction.windows > 1, "a text longer than max_length is read in several windows"
    aid = next(f for f in prediction.frames if f.label == "military_aid")
    assert aid.predicted and aid.score > next(f.score for f in plain.frames if f.label == "military_aid")
    top = aid.evidence[0]
    assert text[top.start : top.end] == top.sentence == "A new weapons package arrived."
    assert set(prediction.stance) == {"Ukraine", "Russia"}
    (custom,) = predictor.classify([text], targets=["russia"], evidence=False)
    assert set(custom.stance) == {"Russia"} and all(f.evidence == [] for f in custom.frames)
    assert predictor.artifact.spec.stance_targets == ("Ukraine", "Russia"), "scheme targets: one pass (heads)"
    with pytest.raises(FramelensError, match=r"stance toward \['Ukraine', 'Russia'\] only, not \['NATO'\]"):
        predictor.classify([text], targets=["NATO"])
    with pytest.raises(FramelensError, match="empty"):
        predictor.classify(["   "])


def test_invalid_data_is_refused_and_no_version_appears(tiny_encoder: Path, tmp_path: Path) -> None:
    rows = tiny_rows(12)
    rows[3]["frames"] = ["militry_aid"]
    rows[5]["text"] = ""
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with path.open("a") as handle:
        handle.write('{"id": "broken", "text": \n')
    registry = Registry(tmp_path / "models")
    with pytest.raises(DataError) as caught:
        train_version([path], TINY_SCHEME, tiny_config(tiny_encoder), registry, progress=False)
    assert len(caught.value.problems) == 3
    assert registry.versions() == [] and not (tmp_path / "models" / "versions").exists()


def test_retraining_continues_from_the_active_version(tiny_encoder: Path, tiny_data: Path, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")
    first = train_version([tiny_data], TINY_SCHEME, tiny_config(tiny_encoder, epochs=3), registry, progress=False)
    second = train_version(
        [tiny_data],
        TINY_SCHEME,
        tiny_config(tiny_encoder, epochs=2, init_from="active"),
        registry,
        progress=False,
    )
    assert registry.versions() == sorted([first.version, second.version])
    assert registry.active() == second.version
    assert json.loads((second.path / "training_config.json").read_text())["init_from"] == "active"
    registry.activate(first.version)  # rollback
    assert registry.active() == first.version


def test_heads_mode_refuses_targets_the_scheme_does_not_list(tiny_encoder: Path, tmp_path: Path) -> None:
    rows = tiny_rows(12)
    rows[4]["stance"] = {**rows[4]["stance"], "NATO": "favor"}
    path = write_jsonl(tmp_path / "extra-target.jsonl", rows)
    examples = load_examples(path, TINY_SCHEME)
    with pytest.raises(FramelensError, match=r"\['NATO'\].*stance_mode 'hybrid'"):
        fine_tune(tiny_config(tiny_encoder, stance_mode="heads"), TINY_SCHEME, examples, [], tiny_encoder)
    auto = fine_tune(tiny_config(tiny_encoder, epochs=1), TINY_SCHEME, examples, [], tiny_encoder, progress=False)
    assert auto.spec.stance_targets == ("Ukraine", "Russia") and auto.spec.open_targets, (
        "auto trains hybrid when data has other targets: heads for the scheme's, the paired head for the rest"
    )


def test_unknown_training_options_are_errors() -> None:
    with pytest.raises(FramelensError, match="unknown training option"):
        TrainingConfig.from_dict({"epochz": 3})


def test_device_option_is_checked() -> None:
    with pytest.raises(FramelensError, match="device must be"):
        TrainingConfig(device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(FramelensError, match="sees no CUDA GPU"):
            training_device(TrainingConfig(device="cuda"))
    assert training_device(TrainingConfig(device="cpu")).type == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_a_gpu_learns_and_hands_back_a_cpu_network(tiny_encoder: Path, tiny_data: Path) -> None:
    examples = load_examples(tiny_data, TINY_SCHEME)
    config = tiny_config(tiny_encoder, device="cuda")
    trained = fine_tune(config, TINY_SCHEME, examples, examples, encoder_dir=tiny_encoder, progress=False)
    assert {p.device.type for p in trained.net.parameters()} == {"cpu"}
    assert trained.history[-1]["train_loss"] < 0.5 * trained.history[0]["train_loss"]
    assert trained.dev_metrics["frames"]["macro_f1"] >= 0.9
    cpu_raw = collect_raw(trained.net, trained.tokenizer, trained.spec, TINY_SCHEME, examples)
    gpu_raw = collect_raw(trained.net, trained.tokenizer, trained.spec, TINY_SCHEME, examples, 64, torch.device("cuda"))
    np.testing.assert_allclose(gpu_raw.frame_logits, cpu_raw.frame_logits, atol=0.15)  # bf16 encoder on the GPU
    assert {p.device.type for p in trained.net.parameters()} == {"cpu"}


@pytest.mark.parametrize("stance_mode", ["heads", "paired", "hybrid"])
def test_a_batch_split_into_passes_gives_the_gradients_of_one_pass(
    tiny_encoder: Path, tmp_path: Path, stance_mode: str
) -> None:
    import copy

    from framelens.model.artifact import NetworkSpec, build_network
    from framelens.model.inference import make_documents
    from framelens.training.trainer import _Batcher, stance_targets_for

    rows = tiny_rows()[:12]
    for k in range(0, 12, 3):  # some passages long enough for several windows
        rows[k] = {**rows[k], "text": " ".join(r["text"] for r in tiny_rows()[k : k + 4])}
        if stance_mode == "hybrid":  # a target beyond the scheme's, for the paired head
            rows[k]["stance"] = {**rows[k]["stance"], "the grain deal": "favor"}
    examples = load_examples(write_jsonl(tmp_path / "split.jsonl", rows), TINY_SCHEME)
    config = tiny_config(tiny_encoder, stance_mode=stance_mode, dropout=0.0, max_length=32, overlap_tokens=4)
    targets, open_targets = stance_targets_for(config, TINY_SCHEME, examples)
    spec = NetworkSpec(str(tiny_encoder), 32, 4, 4, "max", 0.0, targets, open_targets=bool(targets) and open_targets)
    assert (stance_mode == "hybrid") == (bool(spec.stance_targets) and spec.open_targets)
    net, tokenizer = build_network(tiny_encoder, TINY_SCHEME, spec)
    docs = make_documents([e.text for e in examples], tokenizer, spec, True)
    assert sum(len(d.windows) for d in docs) > len(docs), "the fixture must have multi-window documents"
    grads, values, passes = [], [], []
    for limit in (10_000, 3):
        copy_of = copy.deepcopy(net)
        batcher = _Batcher(
            copy_of,
            tokenizer,
            spec,
            TINY_SCHEME,
            examples,
            docs,
            config.replace(max_windows_per_pass=limit),
            torch.device("cpu"),
        )
        passes.append(len(batcher._parts(list(range(len(examples))))))
        values.append(batcher.step(list(range(len(examples)))))
        grads.append([p.grad.clone() for p in copy_of.parameters() if p.grad is not None])
    assert passes[0] == 1 and passes[1] > 3
    assert values[1] == pytest.approx(values[0], rel=1e-5)
    assert len(grads[0]) == len(grads[1]) > 0
    for one, split in zip(grads[0], grads[1], strict=True):
        torch.testing.assert_close(split, one, rtol=1e-4, atol=1e-6)


def test_a_heads_version_continued_in_hybrid_mode_answers_other_targets(
    tiny_encoder: Path, tiny_data: Path, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "models")
    first = train_version([tiny_data], TINY_SCHEME, tiny_config(tiny_encoder, epochs=3), registry, progress=False)
    rows = grain_deal_rows()  # a target the first version never saw
    grain = write_jsonl(tmp_path / "grain.jsonl", rows)
    hybrid = tiny_config(tiny_encoder, epochs=2, init_from="active", stance_mode="hybrid", distill_weight=1.0)
    second = train_version([grain], TINY_SCHEME, hybrid, registry, progress=False)
    before, after = Predictor.load(first.path), Predictor.load(second.path)
    assert after.artifact.spec.stance_targets == before.artifact.spec.stance_targets == ("Ukraine", "Russia")
    assert after.artifact.spec.open_targets and not before.artifact.spec.open_targets
    (answer,) = after.classify([rows[0]["text"]], targets=["Ukraine", "the grain deal", "NATO"])
    assert set(answer.stance) == {"Ukraine", "the grain deal", "NATO"}
    assert [answer.stance[t].seen_in_training for t in ("Ukraine", "the grain deal", "NATO")] == [True, True, False]
    with pytest.raises(FramelensError, match="NATO"):
        before.classify([rows[0]["text"]], targets=["NATO"])
    heads_only = tiny_config(tiny_encoder, epochs=1, init_from=first.version, stance_mode="heads")
    with pytest.raises(FramelensError, match="stance_mode 'hybrid'"):
        train_version([grain], TINY_SCHEME, heads_only, registry, progress=False)
