"""Two checks of `framelens score` on real articles: kill -9 half way then resume, and Ray against local.

    python bench/score_checks.py --home runs/models-prelim --limit 60          # both checks
    python bench/score_checks.py --home … --skip-ray                         # without Ray installed

The first `--limit` Narrative Frames articles (read where they lie) are copied to a temporary folder. Resume: one
uninterrupted run, and one run killed with SIGKILL once its ledger counts half the articles, then re-run by the same
command; Ray: the same archive with `--engine ray --workers 1`. Each prints rows, whether ids and labels are the
same, and the largest score difference.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ARTICLES

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def command(args: argparse.Namespace, archive: Path, out: Path, *extra: str) -> list[str]:
    base = [sys.executable, "-m", "framelens.serve.cli", *(["--home", args.home] if args.home else []), "score"]
    return [*base, str(archive), "-o", str(out), "--threads", "1", "--chunk-size", str(args.chunk_size), *extra]


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def compare(name: str, got: Path, want: Path) -> None:
    a, b = rows(got), rows(want)
    same_ids = [r["id"] for r in a] == [r["id"] for r in b]
    same_labels = sum(x["labels"] == y["labels"] and x["stance"] == y["stance"] for x, y in zip(a, b, strict=False))
    diff = max(
        (abs(x["scores"][f] - y["scores"][f]) for x, y in zip(a, b, strict=False) for f in x["scores"]), default=0.0
    )
    print(
        f"{name}: {len(a)} rows vs {len(b)}; same ids in order: {same_ids}; same labels and stance: "
        f"{same_labels}/{len(b)}; largest frame-score difference {diff:.2e}",
        flush=True,
    )


def ledger_count(ledger: Path) -> int:
    try:
        return int(json.loads(ledger.read_text())["counts"]["consumed"])
    except (OSError, ValueError, KeyError):
        return 0


def resume_check(args: argparse.Namespace, archive: Path, folder: Path, total: int) -> Path:
    whole, resumed = folder / "whole.jsonl", folder / "resumed.jsonl"
    began = time.monotonic()
    subprocess.run(command(args, archive, whole, "--quiet"), env=ENV, cwd=ROOT, check=True)
    print(f"uninterrupted run: {time.monotonic() - began:.0f} s", flush=True)
    child = subprocess.Popen(command(args, archive, resumed, "--quiet"), env=ENV, cwd=ROOT)
    ledger = folder / "resumed.jsonl.partial" / "ledger.json"
    while ledger_count(ledger) < total // 2 and child.poll() is None:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    print(f"killed with SIGKILL after {ledger_count(ledger)} of {total} articles; output exists: {resumed.exists()}")
    subprocess.run(command(args, archive, resumed, "--quiet"), env=ENV, cwd=ROOT, check=True)
    compare("kill -9 + resume vs uninterrupted", resumed, whole)
    return whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, default=ARTICLES)
    parser.add_argument("--home", help="model registry (default: $FRAMELENS_HOME or ./models)")
    parser.add_argument("--limit", type=int, default=60, help="articles to score")
    parser.add_argument("--chunk-size", type=int, default=4)
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    lines = [line for line in args.articles.read_text(encoding="utf-8").splitlines() if line.strip()][: args.limit]
    with tempfile.TemporaryDirectory(prefix="framelens-score-checks-") as tmp:
        folder = Path(tmp)
        archive = folder / "articles.jsonl"
        archive.write_text("\n".join(lines) + "\n", encoding="utf-8")
        whole = resume_check(args, archive, folder, len(lines))
        if not args.skip_ray:
            on_ray = folder / "ray.jsonl"
            began = time.monotonic()
            # One Ray chunk for the whole archive: each chunk starts its own actor pool (and loads the model).
            ray = command(args, archive, on_ray, "--quiet", "--engine", "ray", "--workers", "1", "--chunk-size", "1024")
            subprocess.run(ray, env=ENV, cwd=ROOT, check=True)
            print(f"ray run: {time.monotonic() - began:.0f} s", flush=True)
            compare("ray vs local", on_ray, whole)


if __name__ == "__main__":
    main()
