"""kill -9 at every filesystem step of a registry commit and activation: a version appears whole or not at all,
and the active pointer always names a whole version.

A child process stages a copy of a trained version, commits it and activates it, and SIGKILLs itself just
before its Nth filesystem call inside `Registry.commit` / `Registry.activate` (mkdir, open, rename, replace,
copy, …). N runs from 1 until the child finishes unkilled, so every step and its neighbours are covered: a
commit that copied files into place one by one would leave a half version at some N and fail here."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from framelens.training.registry import Registry

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, shutil, signal, sys
from pathlib import Path
from framelens.training.registry import Registry

home, source, version, kill_at = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
registry = Registry(home)
calls = 0
MUTATING = {"mkdir", "makedirs", "open", "replace", "rename", "link", "symlink", "unlink", "rmdir", "write",
            "fsync", "copyfile", "copy2", "copytree", "copy", "move", "write_text", "write_bytes", "touch"}

def hook(frame, event, arg):
    global calls
    name = getattr(arg, "__name__", "") if event == "c_call" else frame.f_code.co_name if event == "call" else ""
    if name in MUTATING:
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

with registry.stage() as staged:
    for item in source.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, staged / item.name)
    sys.setprofile(hook)
    registry.commit(staged, version)
    registry.activate(version)
    sys.setprofile(None)
print("finished after", calls, "filesystem calls")
"""


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def trained_version(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from framelens.training.pipeline import train_version
    from tests.fixtures import TINY_SCHEME, tiny_rows, write_jsonl
    from tests.training.test_fine_tune import tiny_config

    root = tmp_path_factory.mktemp("commit-kill")
    data = write_jsonl(root / "d.jsonl", tiny_rows())
    config = tiny_config(tiny_encoder, epochs=1)
    return train_version([data], TINY_SCHEME, config, Registry(root / "models"), progress=False).path


def test_kill_9_at_every_step_of_commit_and_activate_leaves_only_whole_versions(
    trained_version: Path, tmp_path: Path
) -> None:
    expected = _digest(trained_version)
    old = trained_version.name
    for kill_at in range(1, 400):
        home = tmp_path / f"home-{kill_at}"
        registry = Registry(home)
        (registry.versions_dir).mkdir(parents=True)
        (registry.versions_dir / old).symlink_to(trained_version, target_is_directory=True)
        registry.activate(old)
        new = "v20990101-000000-c0de"
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(home), str(trained_version), new, str(kill_at)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        killed = done.returncode == -9
        assert killed or done.returncode == 0, done.stderr
        registry.clean_stale()  # what the next writer (or a restarted server) does first
        versions = registry.versions()
        assert set(versions) <= {old, new}
        if new in versions:
            assert _digest(registry.path(new)) == expected, f"kill at step {kill_at}: a half version is visible"
        active = json.loads((home / "active.json").read_text())["version"]
        assert active in versions and registry.active() in (old, new), f"kill at step {kill_at}: bad active pointer"
        staging = registry.staging_dir
        assert not staging.exists() or not any(staging.iterdir()), f"kill at step {kill_at}: staging left behind"
        if not killed:
            assert kill_at > 2, "the commit and activation made at least two filesystem calls"
            assert registry.active() == new and new in versions
            return
    raise AssertionError("the child never finished: more than 399 filesystem calls in one commit?")
