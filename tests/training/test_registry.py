"""A crash at any point leaves the registry as it was: versions appear whole or not at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from framelens.training.registry import Registry
from tests.fixtures import tiny_rows, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".staging" not in p.parts)


def test_kill_9_mid_training_leaves_the_registry_unchanged(
    tiny_encoder: Path, tiny_scheme_file: Path, tmp_path: Path
) -> None:
    home = tmp_path / "models"
    data = write_jsonl(tmp_path / "d.jsonl", tiny_rows(96))
    base = [
        sys.executable,
        "-m",
        "framelens.serve.cli",
        "--home",
        str(home),
        "train",
        str(data),
        "--scheme",
        str(tiny_scheme_file),
        "--init-from",
        str(tiny_encoder),
        "--threads",
        "1",
        "--max-length",
        "64",
    ]
    done = subprocess.run([*base, "--epochs", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    before = snapshot(home)
    registry = Registry(home)
    active = registry.active()

    # Early stopping must not end the run before the kill (tiny data stops improving within seconds).
    config = tmp_path / "long.json"
    config.write_text(json.dumps({"patience": 1000}), encoding="utf-8")
    long_run = [*base, "--epochs", "500", "--config", str(config)]
    proc = subprocess.Popen(long_run, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    seen = ""
    while "fine-tuning" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read(64)
    assert "fine-tuning" in seen, "training never started"
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    assert snapshot(home) == before
    assert registry.active() == active and len(registry.versions()) == 1


def test_a_stale_staging_folder_is_invisible_and_cleaned(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / ".staging" / f"{dead.pid}-abcd1234"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    assert registry.versions() == []
    with registry.stage() as folder:
        assert folder.is_dir()
    assert not stale.exists()
