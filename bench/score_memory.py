"""Peak memory of `framelens score` on an archive and on one 10x larger: streaming keeps them (nearly) equal.

    python bench/score_memory.py                                   # the active version in $FRAMELENS_HOME
    python bench/score_memory.py --home runs/models-prelim --small 32 --scale 10 --chunk-size 32 --threads 1

Two synthetic JSON Lines archives are written to a temporary folder (never into the repository): the first
`--small` Narrative Frames articles (read where they lie; default all 428), and the same articles `--scale` times
over, so both hold the same mix of lengths and only the size differs. Every row gets its own id and a date spread
over two years. Each is scored by `framelens score` in a fresh process, whose peak RSS (ru_maxrss, from wait4) is
its own. Prints both peaks, their ratio, and articles/s and windows/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ARTICLES


def build_archive(source: Path, small: int, repeat: int, dest: Path) -> Path:
    """The first `small` articles (cycled if the corpus has fewer), `repeat` times over."""
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = dt.date(2022, 1, 1)
    with dest.open("w", encoding="utf-8") as handle:
        for i in range(small * repeat):
            row = rows[(i % small) % len(rows)]
            date = (start + dt.timedelta(days=i % 730)).isoformat()
            out = {"id": f"syn-{i:07d}", "text": row["text"], "date": date, "outlet": row.get("outlet")}
            handle.write(json.dumps(out) + "\n")
    return dest


def score(archive: Path, out: Path, args: argparse.Namespace) -> tuple[float, float, dict[str, int]]:
    """Peak RSS in MiB and seconds of one `framelens score` process."""
    command = [
        sys.executable,
        "-m",
        "framelens.serve.cli",
        "score",
        str(archive),
        "-o",
        str(out),
        "--quiet",
        "--overwrite",
    ]
    command += ["--threads", str(args.threads), "--chunk-size", str(args.chunk_size)]
    if args.home:
        command[3:3] = ["--home", str(args.home)]
    if args.version:
        command += ["--version", args.version]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    began = time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - began
    output = child.stdout.read().decode() if child.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"framelens score failed on {archive}:\n{output}")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    counts = {"articles": len(rows), "windows": sum(int(r["windows"]) for r in rows)}
    return usage.ru_maxrss / 1024, seconds, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, default=ARTICLES, help="narrative-frames-2023 articles.jsonl")
    parser.add_argument("--home", help="model registry (default: $FRAMELENS_HOME or ./models)")
    parser.add_argument("--version", help="model version (default: the active one)")
    parser.add_argument("--small", type=int, default=428, help="articles in the smaller archive")
    parser.add_argument("--scale", type=int, default=10, help="how many times larger the second archive is")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=64)
    args = parser.parse_args()
    if not args.articles.is_file():
        raise SystemExit(f"{args.articles} not found: pass --articles with the narrative-frames-2023 articles.jsonl")
    results = []
    with tempfile.TemporaryDirectory(prefix="framelens-score-memory-") as tmp:
        for repeat in (1, args.scale):
            count = args.small * repeat
            archive = build_archive(args.articles, args.small, repeat, Path(tmp) / f"archive-{count}.jsonl")
            peak, seconds, counts = score(archive, Path(tmp) / f"scores-{count}.jsonl", args)
            results.append((count, archive.stat().st_size / 2**20, peak, seconds, counts))
            print(
                f"{count:>8,} articles ({results[-1][1]:.1f} MiB): peak RSS {peak:7.1f} MiB, {seconds:6.1f} s, "
                f"{counts['articles'] / seconds:6.1f} articles/s, {counts['windows'] / seconds:7.1f} windows/s",
                flush=True,
            )
    ratio = results[1][2] / results[0][2]
    verdict = "within" if abs(ratio - 1) <= 0.10 else "NOT within"
    print(f"peak RSS ratio (x{args.scale} archive / small archive): {ratio:.3f} ({verdict} 10%)")


if __name__ == "__main__":
    main()
