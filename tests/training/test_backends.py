"""Inference backends on a tiny trained version: ONNX fp32 scores like torch, int8 parity is recorded, the
ONNX cache is reused and rebuilt when corrupt, "auto" picks a backend that passed, and the pipelined path
labels like the plain one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from framelens.model.backends import ONNX_FP32, ONNX_INT8, TORCH, TorchScorer, read_parity
from framelens.model.inference import make_documents, score_documents
from framelens.model.onnx_backend import FILES, MANIFEST, ONNX_DIR, ensure_exported, kept_in_fp32
from framelens.model.onnx_net import load_onnx_net
from framelens.model.prediction import TextPrediction
from framelens.model.predictor import Predictor
from framelens.training.backends import FIXED_PASSAGES, check_parity, choose_backend
from framelens.training.pipeline import train_version
from framelens.training.registry import Registry
from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl
from tests.training.test_fine_tune import tiny_config

TEXTS = [r["text"] for r in tiny_rows()[:10]] + [
    "Ceasefire talks resumed in geneva. " * 12 + "The brutal aggressor shelled homes.",  # several windows
    "an unrelated weather report about rain in the city.",
]


@pytest.fixture(scope="module")
def version(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backends")
    data = write_jsonl(root / "tiny.jsonl", tiny_rows())
    config = tiny_config(tiny_encoder, epochs=15)
    return train_version([data], TINY_SCHEME, config, Registry(root / "models"), progress=False).path


def flat(predictions: list[TextPrediction]) -> np.ndarray:
    values = [f.score for p in predictions for f in p.frames]
    values += [x for p in predictions for s in p.stance.values() for x in s.scores.values()]
    return np.asarray(values)


def labels(predictions: list[TextPrediction]) -> list[tuple[list[str], dict[str, str]]]:
    return [(p.predicted_frames, {t: s.label for t, s in p.stance.items()}) for p in predictions]


def evidence(predictions: list[TextPrediction]) -> list[list[str]]:
    return [[e.sentence for f in p.frames for e in f.evidence] for p in predictions]


def test_onnx_fp32_scores_like_torch(version: Path) -> None:
    torch_run = Predictor.load(version).classify(TEXTS)
    onnx = Predictor.load(version, backend=ONNX_FP32, threads=1)
    assert onnx.backend == ONNX_FP32 and Predictor.load(version).backend == TORCH
    onnx_run = onnx.classify(TEXTS)
    np.testing.assert_allclose(flat(onnx_run), flat(torch_run), atol=1e-5)
    assert labels(onnx_run) == labels(torch_run)
    assert onnx_run[-2].windows == torch_run[-2].windows > 1
    assert evidence(onnx_run) == evidence(torch_run), "evidence comes from token logits: the same sentences"


@pytest.mark.parametrize(("backend", "threads"), [(TORCH, 1), (ONNX_FP32, 1), (ONNX_INT8, 1), (ONNX_INT8, 2)])
def test_a_text_scores_the_same_alone_and_in_any_batch(version: Path, backend: str, threads: int) -> None:
    """int8's activation scales are per tensor, so it scores one window per call: batched, a window's scores
    would move with its batch mates (by up to 0.11). Checked to 1e-6 on raw logits, as well as on responses.
    With 2 threads, int8 runs a batch's windows side by side on a one-thread session and a lone window on the
    two-thread one: both must give the scores a window gets alone."""
    predictor = Predictor.load(version, backend=backend, threads=threads)
    alone = [predictor.classify([text])[0] for text in TEXTS]
    together = predictor.classify(TEXTS)
    reordered = predictor.classify(TEXTS[::-1])[::-1]
    # Responses round scores to 6 decimals, so 1e-6 apart in truth can read 2e-6 apart; raw logits below.
    np.testing.assert_allclose(flat(together), flat(alone), atol=2e-6, rtol=0)
    np.testing.assert_allclose(flat(reordered), flat(alone), atol=2e-6, rtol=0)
    assert evidence(together) == evidence(alone)
    a = predictor.artifact

    def raw(texts: list[str]) -> np.ndarray:
        docs = make_documents(texts, a.tokenizer, a.spec, with_stance=True)
        scores = score_documents(predictor.net, a.tokenizer, a.spec, docs, [[]] * len(docs), batch_size=32)
        return np.concatenate([np.r_[s.frame_logits, np.nan_to_num(s.sentence_frame_logits).ravel()] for s in scores])

    one_by_one = np.concatenate([raw([text]) for text in TEXTS])
    np.testing.assert_allclose(raw(TEXTS), one_by_one, atol=1e-6, rtol=0)
    np.testing.assert_allclose(raw(TEXTS[::-1]), np.concatenate([raw([t]) for t in TEXTS[::-1]]), atol=1e-6, rtol=0)


def test_int8_exports_and_its_parity_is_recorded(version: Path) -> None:
    record = check_parity(version, threads=1)
    assert read_parity(version) == json.loads(json.dumps(record))
    assert set(record["backends"]) == {TORCH, ONNX_FP32, ONNX_INT8}
    assert record["passages"] >= len(FIXED_PASSAGES) and record["held_out"]["n"] > 0
    fp32, int8 = record["backends"][ONNX_FP32], record["backends"][ONNX_INT8]
    assert fp32["passed"] and fp32["max_score_diff"] < 1e-4
    assert isinstance(int8["passed"], bool) and 0.0 <= int8["max_score_diff"] < 1.0
    assert "frames_macro_f1" in int8["held_out"] and "frames_macro_f1" in int8["f1_drop"]
    assert all(entry["passages_per_s"] > 0 for entry in record["backends"].values())
    predictions = Predictor.load(version, backend=ONNX_INT8, threads=1).classify(TEXTS[:3])
    assert all(0.0 <= f.score <= 1.0 for p in predictions for f in p.frames)

    import onnx

    graph = onnx.load(str(version / ONNX_DIR / FILES[ONNX_INT8])).graph
    plain = {n.name for n in graph.node if n.op_type in ("MatMul", "Gemm")}
    fp32_graph = onnx.load(str(version / ONNX_DIR / FILES[ONNX_FP32])).graph
    kept = [n for n in kept_in_fp32(fp32_graph) if n.endswith("MatMul")]
    assert kept and set(kept) <= plain, "the heads' token-logit MatMuls stay fp32"
    assert not any(n.startswith("/encoder/") for n in plain if n.endswith("MatMul")), "the encoder is int8"
    assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul", "QAttention") for n in graph.node)


def test_onnx_cache_is_reused_and_rebuilt_when_corrupt(version: Path) -> None:
    folder = version / ONNX_DIR
    ensure_exported(version)
    fp32 = folder / FILES[ONNX_FP32]
    stamp = fp32.stat().st_mtime_ns
    ensure_exported(version)
    assert fp32.stat().st_mtime_ns == stamp, "a good cache is reused, not exported again"

    fp32.write_bytes(fp32.read_bytes()[:100])  # truncated: a crash mid-copy, a full disk
    net = load_onnx_net(version, ONNX_FP32, threads=1)
    assert net.n_frames == len(TINY_SCHEME.frames)
    assert fp32.stat().st_size > 1000
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    expected = labels(Predictor.load(version).classify(TEXTS[:4]))
    assert labels(Predictor.load(version, backend=ONNX_FP32, threads=1).classify(TEXTS[:4])) == expected
    assert json.loads((folder / MANIFEST).read_text())["files"][ONNX_FP32]["sha256"]
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name], "no temporary files left behind"


def test_auto_picks_a_backend_that_passed(version: Path) -> None:
    name, predictor = choose_backend(version, threads=1)
    record = read_parity(version)
    assert record is not None and record["backends"][name]["passed"]
    assert predictor.backend == name
    assert Predictor.load(version, backend="auto", threads=1).backend == name

    # The fastest backend that failed parity is never picked; with nothing else passing, torch is.
    path = version / ONNX_DIR / "parity.json"
    for entry in record["backends"].values():
        entry["passages_per_s"] = 1.0
    record["backends"][ONNX_INT8] |= {"passed": False, "passages_per_s": 1e9}
    record["backends"][ONNX_FP32] |= {"passed": True, "passages_per_s": 1e6}
    path.write_text(json.dumps(record), encoding="utf-8")
    assert Predictor.load(version, backend="auto", threads=1).backend == ONNX_FP32
    record["backends"][ONNX_FP32]["passed"] = False
    path.write_text(json.dumps(record), encoding="utf-8")
    assert Predictor.load(version, backend="auto", threads=1).backend == TORCH
    path.write_text("garbage", encoding="utf-8")
    assert Predictor.load(version, backend="auto").backend == TORCH
    again, _ = choose_backend(version, threads=1)  # a broken record is checked again
    rechecked = read_parity(version)
    assert rechecked is not None and rechecked["backends"][again]["passed"]
    stamp = (version / ONNX_DIR / "parity.json").stat().st_mtime_ns
    other, predictor = choose_backend(version, threads=2)
    torch.set_num_threads(1)  # as the tests run (a torch pick sets the process's threads)
    assert other == again and (version / ONNX_DIR / "parity.json").stat().st_mtime_ns == stamp, (
        "another thread count reads the record: no re-export at a server's start"
    )


@pytest.mark.parametrize("backend", [TORCH, ONNX_FP32])
def test_pipelined_path_labels_like_the_plain_path(version: Path, backend: str) -> None:
    plain = Predictor.load(version, backend=backend, threads=1)
    plain.prefetch = False
    piped = Predictor.load(version, backend=backend, threads=1)
    piped.prefetch, piped.chunk_size, piped.batch_size = True, 5, 3  # several chunks, several batches each
    expected, got = plain.classify(TEXTS * 2), piped.classify(TEXTS * 2)
    assert labels(got) == labels(expected)
    np.testing.assert_allclose(flat(got), flat(expected), atol=1e-6)
    assert evidence(got) == evidence(expected)


def test_gpu_code_path_bf16_autocast_runs_on_cpu(version: Path) -> None:
    """The CUDA path (bf16 encoder, fp32 heads, prefetch, big batches) exercised on the CPU."""
    plain = Predictor.load(version)
    gpu_like = Predictor.load(version)
    gpu_like.net = TorchScorer(gpu_like.artifact.net, "cpu", bf16=True)
    gpu_like.prefetch, gpu_like.chunk_size, gpu_like.batch_size = True, 4, 256
    expected, got = plain.classify(TEXTS), gpu_like.classify(TEXTS)
    assert np.abs(flat(got) - flat(expected)).max() < 0.05
    assert labels(got) == labels(expected)


def test_a_version_that_cannot_export_is_served_by_torch(
    version: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / version.name
    shutil.copytree(version, copy, ignore=shutil.ignore_patterns(ONNX_DIR))

    def broken(*_: object) -> list[str]:
        raise RuntimeError("this encoder cannot be traced")

    monkeypatch.setattr("framelens.model.onnx_backend.export_fp32", broken)
    name, predictor = choose_backend(copy, threads=1)
    assert name == TORCH and predictor.backend == TORCH
    record = read_parity(copy)
    assert record is not None and not record["backends"][ONNX_INT8]["passed"]
    assert "cannot be traced" in record["backends"][ONNX_FP32]["error"]
    assert not [p.name for p in (copy / ONNX_DIR).iterdir() if p.suffix == ".onnx"]
