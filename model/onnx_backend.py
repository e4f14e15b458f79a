"""ONNX Runtime backends: a version's network exported once to <version>/onnx/ (fp32 and dynamic int8) and run there.

The graph takes input_ids / attention_mask [/ token_type_ids] and returns both heads' logits and token logits;
manifest.json beside it holds the head biases, the input names and a SHA-256 per file. Every file is written to a
temporary name and renamed into place, and a file whose hash does not match (or a missing manifest) is rebuilt
from the version's safetensors, so a cache is only ever a copy of the weights, never a second source of truth."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from framelens.model.artifact import WEIGHTS, load_artifact
from framelens.model.backends import ONNX_FP32, ONNX_INT8
from framelens.model.errors import FramelensError
from framelens.model.network import FrameStanceNet

ONNX_DIR = "onnx"
MANIFEST = "manifest.json"
FILES = {ONNX_FP32: "fp32.onnx", ONNX_INT8: "int8.onnx"}
OUTPUTS = ("frames_logits", "frames_token_logits", "stance_logits", "stance_token_logits")
OPSET = 17
INT8_RECIPE = "per-channel-8bit-fp32-heads"  # a cached int8 graph of another recipe is rebuilt


class _BothHeads(nn.Module):
    """The export wrapper: one encoder pass, both heads (the graph ORT runs)."""

    def __init__(self, net: FrameStanceNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        names = ("input_ids", "attention_mask", "token_type_ids")
        batch = dict(zip(names, inputs, strict=False))
        states = self.net.encode(batch)
        frames = self.net._head(self.net.frames_head, states, batch["attention_mask"])
        stance = self.net._head(self.net.stance_head, states, batch["attention_mask"])
        return frames.logits, frames.token_logits, stance.logits, stance.token_logits


def export_fp32(net: FrameStanceNet, tokenizer: Any, path: Path, fuse: bool = True) -> list[str]:
    """Trace the network to ONNX with dynamic batch and length, then (`fuse`) fuse it for ONNX Runtime; returns
    the graph's input names."""
    # The sample has padding, so the traced attention mask path is the general one.
    texts = ["a short one.", "a somewhat longer sample passage for tracing."]
    sample = tokenizer(texts, padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    dynamic = {n: {0: "batch", 1: "tokens"} for n in (*names, OUTPUTS[1], OUTPUTS[3])}
    dynamic |= {OUTPUTS[0]: {0: "batch"}, OUTPUTS[2]: {0: "batch"}}
    wrapper = _BothHeads(net)
    was_training, attention = net.training, net.encoder.config._attn_implementation
    wrapper.eval()  # the exporter restores the wrapper's mode afterwards: keep it eval
    # Eager attention traces to the MatMul/Softmax pattern ONNX Runtime fuses into its Attention kernel
    # (and int8 into QAttention); SDPA's trace is not recognised. The two compute the same function.
    net.encoder.set_attn_implementation("eager")
    try:
        # The tracer warns about Python branches in the attention-mask code; they are constant for an encoder,
        # and the parity check (training.backends) is what proves the graph right.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                tuple(sample[n] for n in names),
                str(path),
                dynamo=False,
                input_names=names,
                output_names=list(OUTPUTS),
                dynamic_axes=dynamic,
                opset_version=OPSET,
                do_constant_folding=True,
            )
    finally:
        net.encoder.set_attn_implementation(attention)
        net.train(was_training)
    if fuse:
        _fuse(path, net.encoder.config)
    return names


def _fuse(path: Path, config: Any) -> None:
    """ONNX Runtime's transformer fusions (embedding + LayerNorm, Attention, SkipLayerNorm, BiasGelu), saved in
    the graph so int8 quantizes the fused ops. BERT-family encoders only; others keep the plain graph."""
    if config.model_type != "bert":
        return
    from onnxruntime.transformers.optimizer import optimize_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused = optimize_model(
            str(path), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
    fused.save_model_to_file(str(path))


def kept_in_fp32(graph: Any) -> list[str]:
    """The MatMuls int8 leaves alone: the heads (tiny, and their error would be the score's error); every
    encoder MatMul is quantized. Measured on the default model's 498 held-out passages (dev + test): frames
    macro-F1 0.8184 fp32, 0.8148 with this recipe at 2.1x fp32's speed; also keeping the feed-forward
    down-projections in fp32 gave 0.8130 at 1.5x, so they are not worth keeping. On the 165 dev passages alone
    the recipes differed by up to 0.01, which is one or two passages: compare them on as many as there are."""
    return [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm") and not n.name.startswith("/encoder/")]


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8: weights quantized once per output channel (full 8 bits: 7-bit weights lost more F1 here),
    activations per batch; the layers in `kept_in_fp32` stay fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        source,
        target,
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=False,
        nodes_to_exclude=kept_in_fp32(onnx.load(str(source), load_external_data=False).graph),
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused ops carry no shape-inferred type
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (graphs, weights and data files)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp{path.suffix}")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One exporter at a time per version (e.g. several API workers starting together)."""
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(version_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((version_dir / ONNX_DIR / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _valid(manifest: dict[str, Any] | None, folder: Path, weights: str, backend: str) -> bool:
    if not manifest or manifest.get("weights_sha256") != weights:
        return False
    entry = manifest.get("files", {}).get(backend)
    if backend == ONNX_INT8 and isinstance(entry, dict) and entry.get("recipe") != INT8_RECIPE:
        return False
    path = folder / FILES[backend]
    return isinstance(entry, dict) and path.is_file() and entry.get("sha256") == file_sha256(path)


def ensure_exported(version_dir: Path, backends: tuple[str, ...] = (ONNX_FP32, ONNX_INT8)) -> dict[str, Any]:
    """Export what is missing, stale or corrupt; returns the manifest. A good cache is only read (no lock, no
    write), so a read-only version folder that was exported once still serves."""
    folder = version_dir / ONNX_DIR
    weights = file_sha256(version_dir / WEIGHTS)
    manifest = read_manifest(version_dir)
    if manifest is not None and all(_valid(manifest, folder, weights, b) for b in backends):
        return manifest
    try:
        folder.mkdir(exist_ok=True)
        with _locked(folder):
            return _rebuild(version_dir, folder, weights, backends)
    except OSError as exc:
        raise FramelensError(f"cannot write the ONNX cache in {folder} ({exc}); use backend 'torch'") from None


def _rebuild(version_dir: Path, folder: Path, weights: str, backends: tuple[str, ...]) -> dict[str, Any]:
    manifest = read_manifest(version_dir)  # again, under the lock: another process may have just exported
    wanted = [b for b in backends if not _valid(manifest, folder, weights, b)]
    if manifest is None or manifest.get("weights_sha256") != weights:
        manifest = {"weights_sha256": weights, "files": {}}
    if not wanted:
        return manifest
    if ONNX_INT8 in wanted and not _valid(manifest, folder, weights, ONNX_FP32):
        wanted.insert(0, ONNX_FP32)  # int8 is quantized from the fp32 graph
    for leftover in folder.glob(".*.tmp.onnx"):  # from an exporter that died; we hold the lock
        leftover.unlink(missing_ok=True)
    if ONNX_FP32 in wanted:
        artifact = load_artifact(version_dir)
        tmp = _tmp_path(folder / FILES[ONNX_FP32])
        try:
            manifest["inputs"] = export_fp32(artifact.net, artifact.tokenizer, tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        manifest |= {
            "n_frames": artifact.net.n_frames,
            "n_stance": artifact.net.n_stance,
            "frames_bias": artifact.net.head_bias("frames").tolist(),
            "stance_bias": artifact.net.head_bias("stance").tolist(),
            "opset": OPSET,
            "torch": torch.__version__,
        }
        _commit(manifest, folder, ONNX_FP32, tmp)
    if ONNX_INT8 in wanted:
        tmp = _tmp_path(folder / FILES[ONNX_INT8])
        try:
            quantize_int8(folder / FILES[ONNX_FP32], tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _commit(manifest, folder, ONNX_INT8, tmp)
    _atomic_json(folder / MANIFEST, manifest)
    return manifest


def _commit(manifest: dict[str, Any], folder: Path, backend: str, tmp: Path) -> None:
    os.replace(tmp, folder / FILES[backend])
    manifest["files"][backend] = {"file": FILES[backend], "sha256": file_sha256(folder / FILES[backend])}
    if backend == ONNX_INT8:
        manifest["files"][backend]["recipe"] = INT8_RECIPE
