"""`framelens score` killed with SIGKILL about half way, then re-run: the output equals an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from framelens.serve.cli import main
from tests.serve.scoring.conftest import articles, read_jsonl, write_articles

ROOT = Path(__file__).resolve().parents[3]
N = 240


def _command(home: Path, archive: Path, out: Path) -> list[str]:
    return ["--home", str(home), "score", str(archive), "-o", str(out), "--threads", "1", "--chunk-size", "2"]


def _consumed(ledger: Path) -> int:
    try:
        return int(json.loads(ledger.read_text())["counts"]["consumed"])
    except (OSError, ValueError, KeyError):
        return 0


def test_kill_9_half_way_then_resume_equals_an_uninterrupted_run(trained_home: Path, tmp_path: Path) -> None:
    archive = write_articles(tmp_path / "news.jsonl", articles(N))
    uninterrupted, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    assert main([*_command(trained_home, archive, uninterrupted), "--quiet"]) == 0

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    child = subprocess.Popen(
        [sys.executable, "-m", "framelens.serve.cli", *_command(trained_home, archive, resumed), "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    ledger = tmp_path / "resumed.jsonl.partial" / "ledger.json"
    deadline = time.monotonic() + 120
    while _consumed(ledger) < N // 2:
        assert child.poll() is None, child.stderr.read() if child.stderr else "the run ended early"
        assert time.monotonic() < deadline, "the run did not get half way in time"
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed_at = _consumed(ledger)
    assert N // 2 <= killed_at < N, killed_at
    assert not resumed.exists(), "no finished output after a kill"

    # The same command again (the chunk size may be left out: the unfinished run's plan keeps it).
    assert main([*_command(trained_home, archive, resumed)[:-2], "--quiet"]) == 0
    whole, again = read_jsonl(uninterrupted), read_jsonl(resumed)
    assert [r["id"] for r in again] == [r["id"] for r in whole] == [f"a-{i:04d}" for i in range(N)]
    for a, b in zip(again, whole, strict=True):
        assert a["labels"] == b["labels"] and a["stance"] == b["stance"]
        assert a["scores"] == pytest.approx(b["scores"], abs=1e-6)
    assert not (tmp_path / "resumed.jsonl.partial").exists()


def test_host_workers_write_what_one_process_writes_and_resume_alike(trained_home: Path, tmp_path: Path) -> None:
    """`--host-workers 2`: the same article and window rows, in the same order, as one process."""
    archive = write_articles(tmp_path / "news.jsonl", articles(60))
    one, pooled = tmp_path / "one.jsonl", tmp_path / "pooled.jsonl"
    assert main([*_command(trained_home, archive, one)[:-2], "--chunk-size", "16", "--windows", "--quiet"]) == 0
    command = [*_command(trained_home, archive, pooled)[:-2], "--chunk-size", "16", "--windows", "--quiet"]
    assert main([*command, "--host-workers", "2"]) == 0
    for suffix in ("", ".windows"):
        a = read_jsonl(one.with_name(one.stem + suffix + ".jsonl"))
        b = read_jsonl(pooled.with_name(pooled.stem + suffix + ".jsonl"))
        assert len(a) == len(b) > 0
        for x, y in zip(a, b, strict=True):
            _same(x, y)


def _same(x: object, y: object) -> None:
    """Equal, with numbers equal to 2e-6 (scores are written to 6 decimals)."""
    if isinstance(x, dict) and isinstance(y, dict):
        assert x.keys() == y.keys()
        for key in x:
            _same(x[key], y[key])
    elif isinstance(x, list) and isinstance(y, list):
        assert len(x) == len(y)
        for u, v in zip(x, y, strict=True):
            _same(u, v)
    elif isinstance(x, float) or isinstance(y, float):
        assert x == pytest.approx(y, abs=2e-6)
    else:
        assert x == y
