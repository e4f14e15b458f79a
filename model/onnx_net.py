"""A version's ONNX graph as a `ScoringNet` on ONNX Runtime's CPU provider (`load_onnx_net`); the export and its
cache live in onnx_backend.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from framelens.model.backends import ONNX_INT8, available_cores
from framelens.model.errors import FramelensError
from framelens.model.network import HeadOutput
from framelens.model.onnx_backend import FILES, MANIFEST, ONNX_DIR, OUTPUTS, ensure_exported


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxNet:
    """A `ScoringNet` on ONNX Runtime; `threads` cores (default: every core allowed).

    `row_by_row` (the int8 graph): dynamic quantization gives each activation tensor one scale, taken from the whole
    batch, so a window's scores would depend on the windows batched with it (up to 0.11 apart on whole articles,
    scored in another batch). Each window therefore runs alone, unpadded, and its scores are the same in any batch.
    With more than one thread, the windows of a batch run side by side, one core each, on a one-thread session
    (ORT runs a session from several threads at once); a lone window takes the session with every thread, for the
    latency of a single request. Small matrices split badly across cores: on 2 cores, 600 passages of ~111 tokens
    ran 255 passages/s two at a time against 200-210 on one two-thread session (bench/int8_recipes.py)."""

    def __init__(
        self, path: Path, manifest: dict[str, Any], threads: int | None = None, row_by_row: bool = False
    ) -> None:
        self.threads = threads or available_cores()
        self.session = _session(path, self.threads)
        self.row_by_row = row_by_row
        self._single_thread: Any = None
        self._pool: ThreadPoolExecutor | None = None
        if row_by_row and self.threads > 1:
            self._single_thread = _session(path, 1)
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="framelens-onnx")
        self.inputs = list(manifest["inputs"])
        self._n_frames = int(manifest["n_frames"])
        self._n_stance = int(manifest["n_stance"])
        self._bias = {
            "frames": np.asarray(manifest["frames_bias"], dtype=np.float32),
            "stance": np.asarray(manifest["stance_bias"], dtype=np.float32),
        }

    @property
    def n_frames(self) -> int:
        return self._n_frames

    @property
    def n_stance(self) -> int:
        return self._n_stance

    def _run(self, names: tuple[str, str], batch: dict[str, torch.Tensor]) -> HeadOutput:
        feed = {n: batch[n].numpy().astype(np.int64, copy=False) for n in self.inputs}
        rows, tokens = feed["input_ids"].shape
        if not self.row_by_row or rows == 1:
            logits, token_logits = self.session.run(list(names), feed)
            return HeadOutput(torch.from_numpy(logits), torch.from_numpy(token_logits))
        lengths = feed["attention_mask"].sum(axis=1).tolist()  # padding is on the right
        alone = [{n: v[row : row + 1, :length] for n, v in feed.items()} for row, length in enumerate(lengths)]
        wanted = list(names)
        if self._pool is not None:
            session = self._single_thread
            outputs = list(self._pool.map(lambda one: session.run(wanted, one), alone))
        else:
            outputs = [self.session.run(wanted, one) for one in alone]
        pooled = np.concatenate([logits for logits, _ in outputs])
        per_token = np.zeros((rows, tokens, outputs[0][1].shape[-1]), dtype=outputs[0][1].dtype)
        for row, (length, (_, token_logits)) in enumerate(zip(lengths, outputs, strict=True)):
            per_token[row, :length] = token_logits[0]
        return HeadOutput(torch.from_numpy(pooled), torch.from_numpy(per_token))

    def frames(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._run((OUTPUTS[0], OUTPUTS[1]), batch)

    def stance(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._run((OUTPUTS[2], OUTPUTS[3]), batch)

    def head_bias(self, head: str) -> np.ndarray:
        return self._bias[head]


def load_onnx_net(version_dir: Path, backend: str, threads: int | None = None) -> OnnxNet:
    """The version's ONNX network, exported first if the cache is missing, stale or corrupt."""
    if backend not in FILES:
        raise FramelensError(f"unknown ONNX backend {backend!r}; use one of {sorted(FILES)}")
    manifest = ensure_exported(version_dir, (backend,))
    row_by_row = backend == ONNX_INT8
    try:
        return OnnxNet(version_dir / ONNX_DIR / FILES[backend], manifest, threads, row_by_row)
    except Exception:  # a file that hashes right but will not load (e.g. another ORT): rebuild once
        (version_dir / ONNX_DIR / MANIFEST).unlink(missing_ok=True)
        manifest = ensure_exported(version_dir, (backend,))
        return OnnxNet(version_dir / ONNX_DIR / FILES[backend], manifest, threads, row_by_row)
