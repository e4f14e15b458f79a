"""A version re-checks itself wherever it is served from, and fails closed when it cannot: parity with no
held-out rows passes no backend; a retrain whose recorded seed files are missing or changed is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from framelens.model.backends import TORCH, recorded_choice
from framelens.model.errors import FramelensError
from framelens.training.backends import check_parity
from framelens.training.pipeline import train_version
from framelens.training.provenance import HELD_OUT
from framelens.training.registry import Registry
from framelens.training.retrain import RetrainRequest, retrain
from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl
from tests.training.test_fine_tune import tiny_config


@pytest.fixture(scope="module")
def trained(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(registry home, the seed file its active version was trained on)."""
    root = tmp_path_factory.mktemp("provenance")
    seeds = write_jsonl(root / "seeds.jsonl", tiny_rows())
    train_version([seeds], TINY_SCHEME, tiny_config(tiny_encoder, epochs=3), Registry(root / "models"), progress=False)
    return root / "models", seeds


def _copy_elsewhere(trained: tuple[Path, Path], tmp_path: Path) -> Path:
    """The active version copied to another folder, as a user copies a registry to a server."""
    home, _ = trained
    version = Registry(home).active()
    assert version is not None
    return Path(shutil.copytree(home / "versions" / version, tmp_path / "elsewhere" / version))


def test_a_version_records_absolute_paths_hashes_and_its_held_out_rows(trained: tuple[Path, Path]) -> None:
    home, seeds = trained
    meta = Registry(home).metadata(str(Registry(home).active()))
    assert meta["data"]["files"] == [str(seeds.resolve())]
    assert len(meta["data"]["sha256"][str(seeds.resolve())]) == 64
    held_out = (home / "versions" / meta["version"] / HELD_OUT).read_text().splitlines()
    assert len(held_out) == meta["data"]["counts"]["dev"] + meta["data"]["counts"]["test"] > 0


def test_a_copied_version_compares_f1_on_its_own_held_out_rows(trained: tuple[Path, Path], tmp_path: Path) -> None:
    copy = _copy_elsewhere(trained, tmp_path)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["data"]["files"] = ["seeds/gone.jsonl"]  # the recorded data cannot be found from here
    (copy / "metadata.json").write_text(json.dumps(meta))
    record = check_parity(copy, threads=1)
    assert record["held_out"]["n"] > 0
    for name, entry in record["backends"].items():
        if name != TORCH:
            assert "frames_macro_f1" in entry["f1_drop"], f"{name}: F1 was compared"


def test_parity_with_no_held_out_rows_passes_no_backend(trained: tuple[Path, Path], tmp_path: Path) -> None:
    copy = _copy_elsewhere(trained, tmp_path)
    (copy / HELD_OUT).unlink()
    meta = json.loads((copy / "metadata.json").read_text())
    meta["data"]["files"] = ["seeds/gone.jsonl"]
    (copy / "metadata.json").write_text(json.dumps(meta))
    record = check_parity(copy, threads=1)
    assert record["held_out"]["n"] == 0 and "missing" in record["held_out"]["skipped"]
    onnx = {name: entry for name, entry in record["backends"].items() if name != TORCH}
    assert onnx and not any(entry["passed"] for entry in onnx.values()), "nothing compared, nothing passes"
    assert all("no held-out passages" in entry["reason"] for entry in onnx.values() if "error" not in entry)
    assert recorded_choice(copy) == TORCH


@pytest.mark.parametrize("damage", ["missing", "changed"])
def test_a_retrain_whose_seed_file_is_missing_or_changed_is_refused(
    trained: tuple[Path, Path], tmp_path: Path, damage: str
) -> None:
    home, seeds = trained
    copy_home = Path(shutil.copytree(home, tmp_path / "models"))
    original = seeds.read_bytes()
    try:
        if damage == "missing":
            seeds.unlink()
        else:
            seeds.write_bytes(original + b"\n")
        versions_before = sorted(p.name for p in (copy_home / "versions").iterdir())
        with pytest.raises(FramelensError) as refused:
            retrain(copy_home, RetrainRequest(epochs=1, threads=1), log=lambda line: None, progress=False)
        message = str(refused.value)
        assert str(seeds.resolve()) in message and damage in message and "--seeds" in message
        assert sorted(p.name for p in (copy_home / "versions").iterdir()) == versions_before, "nothing trained"
    finally:
        seeds.write_bytes(original)
