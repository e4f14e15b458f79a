"""The wheel installs outside the checkout as one `framelens` package, with its seeds as package data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding only the built wheel; the heavy dependencies (torch, …) are borrowed from this
    environment through a .pth line, which adds their folder without running this environment's own .pth files
    (so the editable checkout is not importable there)."""
    scratch = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", scratch, ROOT],
        check=True,
        cwd=scratch,
    )
    (wheel,) = scratch.glob("framelens-*.whl")
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    python = venv / "bin" / "python"  # pip installs for that interpreter, so the `framelens` script runs it
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel], check=True
    )
    # Only now: pip must not see (and uninstall) this environment's own framelens while installing the wheel.
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def _run(venv: Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_wheel_is_one_package_with_its_seeds(wheel_venv: Path, tmp_path: Path) -> None:
    site = Path(sysconfig.get_path("purelib", vars={"base": str(wheel_venv), "platbase": str(wheel_venv)}))
    top = {p.name for p in site.iterdir()} - {"borrowed-dependencies.pth"}
    assert "framelens" in top and not top & {"model", "training", "serve", "seeds"}, sorted(top)
    probe = (
        "import framelens.model.scheme as s, json;"
        "print(json.dumps([s.SEEDS_DIR.as_posix(), s.Scheme.load('ukraine-war').frame_names,"
        " (s.SEEDS_DIR / 'ukraine-war' / 'passages.jsonl').is_file()]))"
    )
    seeds, frames, passages = json.loads(_run(wheel_venv, tmp_path, "python", "-c", probe))
    assert seeds.startswith(site.as_posix()), "seeds are read from the installed package, not the checkout"
    assert "war_fatigue" in frames and passages


def test_framelens_classify_works_from_another_folder(wheel_venv: Path, trained_home: Path, tmp_path: Path) -> None:
    out = _run(wheel_venv, tmp_path, "framelens", "--home", str(trained_home), "classify", "Ceasefire talks resumed.")
    result = json.loads(out.splitlines()[0])
    assert result["frames"] and set(result["stance"]) == {"Ukraine", "Russia"}
