"""Which network scores a version: torch as trained (on CPU, or a GPU in bf16) or ONNX Runtime (fp32, int8).

Training records in <version>/onnx/parity.json which backends match torch and how fast each ran; "auto" reads it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from framelens.model.network import FrameStanceNet, HeadOutput

TORCH = "torch"
ONNX_FP32 = "onnx-fp32"
ONNX_INT8 = "onnx-int8"
BACKENDS = (TORCH, ONNX_FP32, ONNX_INT8)
AUTO = "auto"
PARITY = "parity.json"


def available_cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def select_device(device: str | None = None) -> torch.device:
    """The device named, else CUDA when present, else the CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TorchScorer:
    """A trained `FrameStanceNet` on a device. On CUDA the encoder runs under bf16 autocast and the heads in fp32,
    so pooled logits keep fp32 precision. Outputs stay on the device until scoring reads them back."""

    def __init__(self, net: FrameStanceNet, device: torch.device | str | None = None, bf16: bool | None = None) -> None:
        self.device = select_device(str(device) if device is not None else None)
        self.bf16 = self.device.type == "cuda" if bf16 is None else bf16
        self.net = net.to(self.device).eval()

    @property
    def n_frames(self) -> int:
        return self.net.n_frames

    @property
    def n_stance(self) -> int:
        return self.net.n_stance

    def _forward(self, head: torch.nn.Linear, batch: dict[str, torch.Tensor]) -> HeadOutput:
        moved = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            states = self.net.encode(moved)
        return self.net._head(head, states.float(), moved["attention_mask"])

    def frames(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._forward(self.net.frames_head, batch)

    def stance(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._forward(self.net.stance_head, batch)

    def head_bias(self, head: str) -> np.ndarray:
        return self.net.head_bias(head)


def read_parity(version_dir: Path) -> dict[str, Any] | None:
    """The recorded parity check of a version, or None when absent or unreadable."""
    path = version_dir / "onnx" / PARITY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("backends"), dict) else None


def recorded_choice(version_dir: Path, device: str = "cpu", candidates: tuple[str, ...] = BACKENDS) -> str:
    """The fastest backend that passed the recorded parity check on `device`; torch when nothing is recorded."""
    return fastest_passing(read_parity(version_dir), version_dir, device, candidates)


def fastest_passing(
    record: dict[str, Any] | None, version_dir: Path, device: str = "cpu", candidates: tuple[str, ...] = BACKENDS
) -> str:
    """The fastest of `candidates` that passed in `record`. An ONNX entry counts only while the cached graph is
    the one that was checked (same SHA-256 in the cache's manifest)."""
    if record is None or record.get("device") != device or not isinstance(record.get("backends"), dict):
        return TORCH
    try:
        manifest = json.loads((version_dir / "onnx" / "manifest.json").read_text(encoding="utf-8"))
        current = {name: entry.get("sha256") for name, entry in manifest.get("files", {}).items()}
    except (OSError, ValueError, AttributeError):
        current = {}
    passed = [
        (float(entry.get("passages_per_s") or 0.0), name)
        for name, entry in record["backends"].items()
        if name in candidates
        and isinstance(entry, dict)
        and entry.get("passed")
        and (name == TORCH or entry.get("sha256") == current.get(name))
    ]
    return max(passed)[1] if passed else TORCH
