"""A model version on disk: safetensors weights plus JSON that describes them. Nothing else is ever read."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from framelens.model.calibration import Calibration
from framelens.model.errors import FramelensError
from framelens.model.network import FrameStanceNet
from framelens.model.scheme import Scheme

WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class NetworkSpec:
    """How the network was built and reads text; stored with the weights so a version describes itself."""

    encoder: str
    max_length: int = 256
    overlap_tokens: int = 48
    target_reserve: int = 24
    aggregation: str = "max"
    dropout: float = 0.1
    # Heads mode when non-empty: stance toward these targets comes out of the plain pass (see model.network).
    stance_targets: tuple[str, ...] = ()
    # Hybrid: heads for `stance_targets` and the paired (target, text) head trained too, for any other target.
    open_targets: bool = False
    # Every target the training data labelled: a request for another one is answered, marked unseen.
    trained_targets: tuple[str, ...] = ()
    # Windows end at paragraph breaks (see model.windows.build_documents); False for versions made before.
    paragraph_windows: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSpec:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["stance_targets"] = tuple(known.get("stance_targets") or ())
        known["trained_targets"] = tuple(known.get("trained_targets") or ())
        return cls(**known)

    @property
    def paired_stance(self) -> bool:
        """Whether the paired head answers targets named at request time (paired and hybrid models)."""
        return not self.stance_targets or self.open_targets

    def seen(self, target: str) -> bool:
        """Whether the model was trained on stance toward `target` (case-insensitive)."""
        known = {t.casefold() for t in (*self.stance_targets, *self.trained_targets)}
        return target.casefold() in known


@dataclass
class Artifact:
    net: FrameStanceNet
    tokenizer: PreTrainedTokenizerBase
    scheme: Scheme
    spec: NetworkSpec
    calibration: Calibration
    metadata: dict[str, Any]


def build_network(encoder_dir: Path, scheme: Scheme, spec: NetworkSpec) -> tuple[FrameStanceNet, Any]:
    """A fresh network on a pretrained encoder (weights from safetensors only)."""
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    encoder = AutoModel.from_pretrained(str(encoder_dir), use_safetensors=True)
    net = new_network(encoder, scheme, spec)
    return net, tokenizer


def new_network(encoder: Any, scheme: Scheme, spec: NetworkSpec) -> FrameStanceNet:
    n_stance = len(scheme.stance_labels)
    return FrameStanceNet(encoder, len(scheme.frames), n_stance, spec.dropout, len(spec.stance_targets))


def save_artifact(artifact: Artifact, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in artifact.net.state_dict().items()}
    save_file(state, str(directory / WEIGHTS))
    artifact.net.encoder.config.save_pretrained(str(directory / "encoder"))
    artifact.tokenizer.save_pretrained(str(directory / "tokenizer"))
    artifact.scheme.save(directory / "scheme.json")
    _write_json(directory / "network.json", asdict(artifact.spec))
    _write_json(directory / "calibration.json", artifact.calibration.to_dict())
    _write_json(directory / "metadata.json", artifact.metadata)


def load_artifact(directory: Path, weights: bool = True) -> Artifact:
    """`weights=False` gives a network shell on the meta device (no memory, cannot run): for callers that score
    with another backend and need only the tokenizer, scheme and calibration."""
    if not (directory / WEIGHTS).is_file():
        raise FramelensError(f"{directory} is not a framelens model version (no {WEIGHTS})")
    scheme = Scheme.load(directory / "scheme.json")
    spec = NetworkSpec.from_dict(_read_json(directory / "network.json"))
    config = AutoConfig.from_pretrained(str(directory / "encoder"))
    with contextlib.nullcontext() if weights else torch.device("meta"):
        encoder = AutoModel.from_config(config)
        net = new_network(encoder, scheme, spec)
    if weights:
        net.load_state_dict(load_file(str(directory / WEIGHTS)), strict=True)
    net.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(directory / "tokenizer"))
    calibration = Calibration.from_dict(_read_json(directory / "calibration.json"))
    metadata = _read_json(directory / "metadata.json") if (directory / "metadata.json").is_file() else {}
    return Artifact(net, tokenizer, scheme, spec, calibration, metadata)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def count_parameters(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
