"""The retraining commands of `framelens`: examples (add, import, export, stats, label-config), suggest, retrain."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError
from framelens.serve.settings import Settings


def _active_scheme(settings: Settings, fallback: str | None) -> Any:
    """The active model's scheme (what the store validates against), else --scheme."""
    from framelens.model.scheme import Scheme
    from framelens.training.registry import Registry

    registry = Registry(settings.home)
    active = registry.active()
    if active is not None:
        return Scheme.load(registry.path(active) / "scheme.json")
    if fallback is None:
        raise FramelensError(f"no active model in {settings.home}: pass --scheme to say which labels to check")
    return Scheme.load(fallback)


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise FramelensError(f"{path}: file not found")
    try:
        return file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FramelensError(f"{path}: byte {exc.start} is not UTF-8; save the file as UTF-8") from None


def _store_items(settings: Settings, items: Any, scheme: Any, source: str) -> Any:
    from framelens.training.registry import Registry
    from framelens.training.store import ExampleStore, check_against_active

    check_against_active(items, Registry(settings.home), source)
    return ExampleStore(settings.home).add(items, scheme, source)


def cmd_examples(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.training.store import ExampleStore, check_rows, parse_upload

    store = ExampleStore(settings.home)
    if args.action == "export":
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:
            out.writelines(store.export_jsonl())
        finally:
            if args.output:
                out.close()
        return 0
    if args.action == "stats":
        print(json.dumps(store.stats(_active_scheme(settings, args.scheme)), indent=2, ensure_ascii=False))
        return 0
    scheme = _active_scheme(settings, args.scheme)
    if args.action == "label-config":
        from framelens.training.imports.labelstudio import label_config

        targets = [t.strip() for t in args.targets.split(",")] if args.targets else None
        print(label_config(scheme, targets), end="")
        return 0
    if not args.file:
        raise FramelensError(f"name the file: framelens examples {args.action} FILE")
    content = _read(args.file)
    if args.action == "add":
        items = parse_upload(content, Path(args.file).suffix.lower(), scheme, args.file)
        result = _store_items(settings, items, scheme, args.file)
        print(f"stored {result.added} new and {result.replaced} relabelled passage(s); {result.total} in the store")
        return 0
    from framelens.training.imports import import_labels

    if not args.format:
        raise FramelensError("say which export this is: --format labelstudio|labelstudio-min|labelstudio-csv|argilla")
    report = import_labels(content, args.format, scheme, args.file)
    for skipped in report.skipped:
        print(f"skipped {skipped.where}: {skipped.reason}", file=sys.stderr)
    if report.ignored_controls:
        print(f"ignored controls (not frames or stance_<Target>): {dict(report.ignored_controls)}", file=sys.stderr)
    if not report.rows:
        raise FramelensError(f"{args.file}: nothing to import; {len(report.skipped)} item(s) skipped (see above)")
    result = _store_items(settings, check_rows(report.rows, scheme, args.file), scheme, args.file)
    print(
        f"imported {len(report.rows)} passage(s) ({result.added} new, {result.replaced} relabelled), "
        f"skipped {len(report.skipped)}; {result.total} in the store"
    )
    return 0


def cmd_suggest(args: argparse.Namespace, settings: Settings) -> int:
    import torch

    from framelens.serve.predictors import PredictorFactory
    from framelens.training.registry import Registry
    from framelens.training.store import ExampleStore
    from framelens.training.suggest import as_jsonl, as_labelstudio, predict_in_chunks, read_archive, suggest

    torch.set_num_threads(args.threads or settings.threads)
    registry = Registry(settings.home)
    version = args.version or settings.version or registry.active()
    if version is None:
        raise FramelensError(f"no active model in {settings.home}: train one first or pass --version")
    factory = PredictorFactory.from_settings(settings)
    predictor = dataclasses.replace(factory, threads=args.threads or factory.threads).load(registry.path(version))
    stored = {row.get("id") for _, row in ExampleStore(settings.home).rows()}
    passages = [p for p in read_archive(args.archive) if p.id not in stored]
    predictions = predict_in_chunks(lambda texts: predictor.classify(texts, evidence=False), passages)
    chosen = suggest(passages, predictions, dict(predictor.artifact.calibration.thresholds), args.n)
    text = as_jsonl(chosen) if args.format == "jsonl" else json.dumps(as_labelstudio(chosen), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(chosen)} passage(s) to label next written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    """The API's retrain, in the foreground: one job at a time all the same (it shows in GET /v1/train)."""
    from dataclasses import asdict

    from framelens.training.retrain import RetrainRequest, retrain
    from framelens.training.train_jobs import TrainJobs

    request = RetrainRequest(
        init_from=args.init_from,
        epochs=args.epochs,
        threads=args.threads or settings.threads,
        macro_tolerance=settings.gate_macro_tolerance if args.tolerance is None else args.tolerance,
        frame_tolerance=settings.gate_frame_tolerance if args.frame_tolerance is None else args.frame_tolerance,
        promote=not args.no_promote,
        seed_files=[str(Path(f).resolve()) for f in args.seeds or []],
    )
    jobs = TrainJobs(settings.home)
    job = jobs.create(asdict(request))
    jobs.started(job.id, os.getpid())
    try:
        outcome = retrain(settings.home, request, on_phase=lambda phase: jobs.set_phase(job.id, phase))
    except BaseException as exc:
        jobs.fail(job.id, str(exc) or type(exc).__name__)
        raise
    jobs.succeed(job.id, outcome.to_dict())
    for check in outcome.decision.get("checks", []):
        mark = "ok " if check["ok"] else "BAD"
        print(f"  {mark} {check['metric']:<32} {check['active']:.3f} -> {check['candidate']:.3f}")
    return 0


def gate_line(version_dir: Path) -> str | None:
    """One line for `framelens models`: the gate's verdict on a retrained version."""
    from framelens.training.gate import read_decision

    decision = read_decision(version_dir)
    if decision is None:
        return None
    verdict = "passed" if decision.get("promote") else "REFUSED"
    return f"    gate {verdict} vs {decision.get('compared_with')}: {'; '.join(decision.get('reasons') or [])}"


def add_commands(sub: Any) -> None:
    p = sub.add_parser("examples", help="the labelled-data store: add, import, export, stats, label-config")
    p.add_argument("action", choices=["add", "import", "export", "stats", "label-config"])
    p.add_argument("file", nargs="?", help="JSONL/CSV to add, or a labelling tool's export to import")
    p.add_argument("--format", choices=["labelstudio", "labelstudio-min", "labelstudio-csv", "argilla"])
    p.add_argument("-o", "--output", help="export: write here instead of stdout")
    p.add_argument("--scheme", help="when no model is active: the scheme to check labels against")
    p.add_argument("--targets", help="label-config: comma-separated stance targets (default: the scheme's)")
    p = sub.add_parser("suggest", help="the passages of an archive the model is least sure about, to label next")
    p.add_argument("archive", help="JSONL, CSV (a 'text' column) or text file of unlabelled passages")
    p.add_argument("-n", type=int, default=50, help="how many (default 50)")
    p.add_argument("--format", choices=["labelstudio", "jsonl"], default="labelstudio")
    p.add_argument("-o", "--output", help="write here instead of stdout")
    p.add_argument("--version", help="the model version to ask (default: the active one)")
    p.add_argument("--threads", type=int)
    p = sub.add_parser("retrain", help="retrain on the seeds plus the stored examples; promote if the gate passes")
    p.add_argument("--init-from", choices=["active", "base"], default="active")
    p.add_argument("--epochs", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--tolerance", type=float, help="largest allowed fall of a macro-F1 (default 0.01)")
    p.add_argument("--frame-tolerance", type=float, help="largest allowed fall of one frame's F1 (default 0.05)")
    p.add_argument("--no-promote", action="store_true", help="gate the candidate but leave the active model")
    p.add_argument(
        "--seeds", nargs="+", metavar="FILE", help="seed files to retrain on (default: the active version's, checked)"
    )


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "examples": cmd_examples,
    "suggest": cmd_suggest,
    "retrain": cmd_retrain,
}
