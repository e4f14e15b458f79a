"""`framelens score` (batch-score an archive, resumable) and `framelens report` (frame and stance trends)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError
from framelens.serve.predictors import PredictorFactory
from framelens.serve.settings import Settings


def add_batch_commands(sub: Any) -> None:
    p = sub.add_parser("score", help="score an archive of articles; re-run the same command to resume")
    p.add_argument("archive", help="JSONL, CSV, Parquet, a folder of .txt/.md files, or a .zip / .tar.gz of those")
    p.add_argument("-o", "--out", required=True, help="output: .jsonl, .csv or .parquet (errors: OUT.errors.jsonl)")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="output format (default: OUT's suffix)")
    p.add_argument("--windows", action="store_true", help="also write one row per window to OUT's stem.windows")
    p.add_argument("--targets", help="comma-separated stance targets (default: the scheme's)")
    p.add_argument("--no-evidence", action="store_true", help="leave evidence sentences out (faster)")
    p.add_argument("--version", help="model version (default: the unfinished run's, else the active one)")
    p.add_argument("--threads", type=int, help="torch threads (default: $FRAMELENS_THREADS or 2)")
    p.add_argument(
        "--backend",
        choices=["auto", "torch", "onnx-fp32", "onnx-int8"],
        help="what scores (default: $FRAMELENS_BACKEND or auto, the fastest that passed parity; ray: the same)",
    )
    p.add_argument("--chunk-size", type=int, help="articles per chunk, the unit of resuming (local 64, ray 1024)")
    p.add_argument("--max-chars", type=int, default=1_000_000, help="longer articles go to the errors file")
    p.add_argument("--overwrite", action="store_true", help="start over, discarding OUT and any unfinished run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--host-workers",
        type=int,
        default=0,
        help="local: processes that split, window and format while this one runs the model (default 0: none)",
    )
    p.add_argument("--engine", choices=["local", "ray"], default="local", help="ray: Ray Data, pip install '.[ray]'")
    p.add_argument("--workers", type=int, default=1, help="ray: model actors (one model copy each)")
    p.add_argument("--ray-address", help="ray: an existing cluster (default: $RAY_ADDRESS, else a local Ray)")
    p = sub.add_parser("report", help="an HTML report with PNG charts of frame and stance trends from scores")
    p.add_argument("scores", help="a scores file written by `framelens score` (.jsonl, .csv or .parquet)")
    p.add_argument("-o", "--out", required=True, help="the HTML file; the PNG charts are written beside it")
    p.add_argument("--period", choices=["auto", "week", "month"], default="auto", help="time bucket (auto: by span)")
    p.add_argument("--title", default="Framing and stance trends")


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.serve.scoring.engine import ScoreOptions, pending_plan, score_archive
    from framelens.serve.scoring.limits import ArchiveLimits
    from framelens.serve.scoring.progress import ProgressBar
    from framelens.training.registry import Registry

    threads = args.threads or settings.threads
    out = Path(args.out)
    registry = Registry(settings.home)
    plan = None if args.overwrite else pending_plan(out)
    resumed = str(plan["model_version"]) if plan else None
    version = args.version or resumed or settings.version or registry.active()
    if version is None:
        raise FramelensError(f"no active model in {settings.home}: run `make run` or `framelens train` first")
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip()) if args.targets else None
    chunk = args.chunk_size or (plan["chunk_size"] if plan else 1024 if args.engine == "ray" else 64)
    if chunk < 1 or args.workers < 1 or threads < 1:
        raise FramelensError("--chunk-size, --workers and --threads must be at least 1")
    if args.host_workers < 0 or (args.host_workers and args.engine == "ray"):
        raise FramelensError("--host-workers is 0 or more, and for the local engine only (ray: --workers)")
    options = ScoreOptions(
        targets=targets,
        evidence=not args.no_evidence,
        windows=args.windows,
        format=args.format,
        chunk_size=chunk,
        max_chars=args.max_chars,
        overwrite=args.overwrite,
        limits=ArchiveLimits.from_settings(settings),
    )
    factory = PredictorFactory(args.backend or settings.backend, threads, settings.device)
    scorer = _scorer(args, registry.path(version), factory)
    bar = ProgressBar(enabled=not args.quiet)
    pool = getattr(scorer, "pool", None)
    if resumed:
        print(f"resuming the unfinished run in {out}.partial (model {resumed})", file=sys.stderr, flush=True)
    try:
        summary = score_archive(Path(args.archive), out, scorer, options, on_progress=bar)
    except KeyboardInterrupt:
        bar.close()
        kept = f"every finished chunk is kept in {out}.partial"
        print(f"framelens: interrupted; {kept}: re-run the same command to continue", file=sys.stderr)
        return 130
    finally:
        if pool is not None:
            pool.close()
    bar.close()
    if summary.already_done:
        print(f"{out} is already complete: pass --overwrite to score again", file=sys.stderr)
        return 0
    c = summary.counts
    extra = f", windows in {summary.windows}" if summary.windows else ""
    print(f"{c.scored} articles scored ({c.windows} windows) into {out}{extra}; {c.errors} errors in {summary.errors}")
    return 0


def _scorer(args: argparse.Namespace, model_dir: Path, factory: PredictorFactory) -> Any:
    factory = factory.resolved(model_dir)  # "auto" resolved once, for this process and every Ray actor alike
    host_workers = int(getattr(args, "host_workers", 0) or 0)  # callers building their own Namespace may omit it
    engine = f"Ray, {args.workers} worker(s)" if args.engine == "ray" else "this process"
    if host_workers:
        engine += f", {host_workers} host worker process(es)"
    print(f"scoring with model {model_dir.name} on {factory.backend} ({engine})", file=sys.stderr, flush=True)
    if args.engine == "ray":  # the actors load their own copies; the driver loads none
        from framelens.serve.scoring.ray_engine import RayScorer

        return RayScorer(model_dir, workers=args.workers, address=args.ray_address, factory=factory)
    from framelens.serve.scoring.local import LocalScorer

    predictor = factory.load(model_dir)
    if not host_workers:
        return LocalScorer(predictor)
    from framelens.model.host_pool import HostPool

    pool = HostPool(model_dir, predictor.net, host_workers, predictor.batch_size, predictor.backend)
    return LocalScorer(predictor, pool)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.serve.report.html import write_report

    report = write_report(Path(args.scores), Path(args.out), period=args.period, title=args.title)
    charts = ", ".join(p.name for p in report.charts)
    print(f"report of {report.articles} articles ({report.period}ly) at {args.out}; charts: {charts}")
    return 0
