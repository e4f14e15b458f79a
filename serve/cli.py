"""The `framelens` command line: train, evaluate, cv, classify, models, serve, hash-key."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framelens.model.errors import FramelensError
from framelens.serve.batch_cli import add_batch_commands, cmd_report, cmd_score
from framelens.serve.cli_retraining import COMMANDS as RETRAIN_COMMANDS
from framelens.serve.cli_retraining import add_commands as add_retrain_commands
from framelens.serve.cli_retraining import gate_line
from framelens.serve.settings import Settings

if TYPE_CHECKING:
    from framelens.training.config import TrainingConfig

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # framelens never downloads: encoders ship in packages
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _config(args: argparse.Namespace) -> Any:
    from framelens.training.config import TrainingConfig

    config = TrainingConfig.load(args.config) if getattr(args, "config", None) else TrainingConfig()
    return config.replace(
        epochs=args.epochs,
        init_from=args.init_from,
        threads=args.threads,
        max_length=getattr(args, "max_length", None),
        seed=getattr(args, "seed", None),
        device=getattr(args, "device", None),
    )


def _registry(settings: Settings) -> Any:
    from framelens.training.registry import Registry

    return Registry(settings.home)


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.model.scheme import Scheme
    from framelens.training.pipeline import train_version
    from framelens.training.tables import text_table

    scheme = Scheme.load(args.scheme)
    began = time.monotonic()
    result = train_version(args.data, scheme, _config(args), _registry(settings), activate=not args.no_activate)
    print(text_table(result.metrics["test"], result.metrics["baseline"], title="test split:"))
    state = "active" if result.activated else "not activated"
    print(f"\nmodel version {result.version} ({state}) at {result.path}; {time.monotonic() - began:.0f} s")
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.training.pipeline import evaluate_version
    from framelens.training.tables import text_table

    registry = _registry(settings)
    version = args.version or registry.active()
    if version is None:
        raise FramelensError("no active model: train one (`framelens train`) or pass --version")
    result = evaluate_version(registry.path(version), args.data, args.baseline_train)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(text_table(result["model"], result["baseline"], title=f"model {version} on {', '.join(args.data)}:"))
    return 0


def cmd_cv(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.model.scheme import Scheme
    from framelens.training.cv import cross_validate
    from framelens.training.tables import text_table

    scheme = Scheme.load(args.scheme)
    folds = [int(f) for f in args.folds.split(",")] if args.folds else None

    def show(fold: int, result: dict[str, Any]) -> None:
        print(text_table(result["model"], result["baseline"], title=f"\nfold {fold} (test):"), flush=True)

    result = cross_validate(args.data, scheme, _config(args), folds, on_fold=show)
    print(f"\nmean ± sd over {len(result['folds'])} fold(s):")
    print(f"{'metric':<28}  {'framelens':>15}  {'TF-IDF+LR':>15}")
    for key, systems in result["summary"].items():
        cells = [f"{systems[s][0]:.3f} ± {systems[s][1]:.3f}" if s in systems else "-" for s in ("model", "baseline")]
        print(f"{key:<28}  {cells[0]:>15}  {cells[1]:>15}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


def load_predictor(settings: Settings, version: str | None) -> Any:
    """The predictor every face would build for that version (or the active one), from the same settings."""
    from framelens.serve.predictors import PredictorFactory

    registry = _registry(settings)
    chosen = version or settings.version or registry.active()
    if chosen is None:
        raise FramelensError(f"no active model in {settings.home}: run `make run` or `framelens train` first")
    return PredictorFactory.from_settings(settings).load(registry.path(chosen))


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    import torch

    torch.set_num_threads(settings.threads)
    texts = list(args.text)
    if args.file:
        texts += [line for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise FramelensError("give TEXT arguments or --file with one passage per line")
    predictor = load_predictor(settings, args.version)
    targets = [t.strip() for t in args.targets.split(",")] if args.targets else None
    results = predictor.classify(texts, targets=targets, evidence=not args.no_evidence)
    for text, result in zip(texts, results, strict=True):
        print(json.dumps({"text": text, **result.to_dict()}, ensure_ascii=False))
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    registry = _registry(settings)
    if args.action == "activate":
        if not args.version:
            raise FramelensError("name the version to activate: framelens models activate VERSION")
        registry.activate(args.version)
        print(f"active: {args.version}")
        return 0
    active = registry.active()
    for version in registry.versions():
        meta = registry.metadata(version)
        metrics = json.loads((registry.path(version) / "metrics.json").read_text(encoding="utf-8"))
        from framelens.training.evaluation import summary_line

        figures = ", ".join(f"{k}={v:.3f}" for k, v in summary_line(metrics.get("test") or {}).items())
        mark = "*" if version == active else " "
        print(f"{mark} {version}  scheme={meta.get('scheme')}  {figures}")
        if gate := gate_line(registry.path(version)):
            print(gate)
    if not registry.versions():
        print(f"no model versions in {settings.home}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from framelens.serve.logs import log_config

    # Each worker process builds its app from the environment, so the options travel there.
    os.environ["FRAMELENS_HOME"] = str(settings.home)
    if args.version:
        os.environ["FRAMELENS_VERSION"] = args.version
    if args.threads:
        os.environ["FRAMELENS_THREADS"] = str(args.threads)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"framelens API on http://{host}:{port} (docs at http://{host}:{port}/docs)", file=sys.stderr, flush=True)
    uvicorn.run(
        "framelens.serve.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers or settings.workers,
        log_config=log_config(settings.log_level),
        access_log=False,  # the app logs each request itself, with its request id
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=30,
    )
    return 0


def cmd_hash_key(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.serve.auth import hash_key

    key = args.key if args.key is not None else sys.stdin.readline().rstrip("\n")
    if not key.strip():
        raise FramelensError("give the API key to hash: framelens hash-key KEY (or pipe it on stdin)")
    print(hash_key(key))
    return 0


def cmd_bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    """Make sure a default model is active: train it from seeds/ on a fresh machine."""
    from framelens.model.scheme import Scheme
    from framelens.training.config import TrainingConfig
    from framelens.training.pipeline import train_version
    from framelens.training.tables import text_table

    registry = _registry(settings)
    if registry.active() and not args.force:
        print(f"default model ready: {registry.active()} in {settings.home}")
        return 0
    hybrid = settings.hybrid_recipe
    if hybrid is not None and not hybrid.is_file():
        raise FramelensError(f"FRAMELENS_HYBRID_RECIPE names {hybrid}, which is not a file: fix the path or unset it")
    why = "--force" if registry.active() else f"no active model in {settings.home}"
    files = ", ".join(str(f) for f in settings.seed_data)
    print(f"{why}: training the default model from {files}", flush=True)
    stages = "6-25 minutes" if hybrid is None else "10-25 minutes, in two stages,"
    print(f"once: {stages} on 2 CPU cores (minutes on a GPU); progress and ETA below", flush=True)
    began = time.monotonic()
    recipe = settings.default_recipe
    base = TrainingConfig.load(recipe) if recipe is not None and recipe.is_file() else TrainingConfig()
    config = base.replace(threads=settings.threads)
    scheme = Scheme.load(settings.default_scheme)
    result = train_version(list(settings.seed_data), scheme, config, registry)
    print(text_table(result.metrics["test"], result.metrics["baseline"], title="test split:"))
    if hybrid is not None:
        both: list[str | Path] = [*settings.seed_data, *settings.hybrid_data]
        print(
            f"second stage: stance toward any target, distilled from {result.version} (its heads kept) on "
            f"{', '.join(str(f) for f in both)}",
            flush=True,
        )
        second = _second_stage(TrainingConfig.load(hybrid), result.version).replace(threads=settings.threads)
        result = train_version(both, scheme, second, registry)
        print(text_table(result.metrics["test"], result.metrics["baseline"], title="test split (both stages' data):"))
    print(f"default model {result.version} trained in {time.monotonic() - began:.0f} s and activated")
    return 0


def _second_stage(recipe: TrainingConfig, first: str) -> TrainingConfig:
    """The hybrid recipe with "active" (in init_from or distill_from) read as the first stage's version by id, so
    the second stage trains on from it or learns from it however the registry's active model changes meanwhile."""
    return recipe.replace(
        init_from=first if recipe.init_from == "active" else None,
        distill_from=first if recipe.distill_from == "active" else None,
    )


def cmd_agreement(args: argparse.Namespace, settings: Settings) -> int:
    from framelens.model.scheme import Scheme
    from framelens.training.agreement import agreement, load_double_annotation

    result = agreement(load_double_annotation(args.file), Scheme.load(args.scheme))
    print(
        f"{result['n']} double-annotated passages; {result['disagreements']} disagreements, "
        f"{result['adjudicated']} adjudicated"
    )
    print(f"{'label':<24} {'kappa':>6} {'agreement':>9}")
    for kind in ("frames", "stance"):
        for label, figures in result[kind].items():
            name = label if kind == "frames" else f"stance {label}"
            print(f"{name:<24} {figures['kappa']:>6.3f} {figures['agreement']:>9.3f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="framelens", description=__doc__)
    parser.add_argument("--home", help="model registry folder (default: $FRAMELENS_HOME or ./models)")
    sub = parser.add_subparsers(dest="command", required=True)

    def training_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scheme", default="ukraine-war", help="scheme name in seeds/schemes or a JSON path")
        p.add_argument("--config", help="JSON file of training options (see training/config.py)")
        p.add_argument("--epochs", type=int)
        p.add_argument("--init-from", help="encoder name or directory, 'active', or a model version")
        p.add_argument("--threads", type=int)
        p.add_argument("--max-length", type=int)
        p.add_argument("--seed", type=int)
        p.add_argument("--device", help="auto (a CUDA GPU when present, else CPU), cpu, cuda or cuda:N")

    p = sub.add_parser("train", help="fine-tune a new model version on labelled JSONL/CSV files")
    p.add_argument("data", nargs="+")
    training_options(p)
    p.add_argument("--no-activate", action="store_true", help="keep the current active version")
    p = sub.add_parser("evaluate", help="metrics of a model version on labelled files, beside the baseline")
    p.add_argument("data", nargs="+")
    p.add_argument("--version")
    p.add_argument("--baseline-train", nargs="*", help="labelled files to fit the TF-IDF baseline on")
    p.add_argument("--json", help="also write the metrics to this JSON file")
    p = sub.add_parser("cv", help="k-fold cross-validation from the data's 'fold' field")
    p.add_argument("data", nargs="+")
    training_options(p)
    p.add_argument("--folds", help="comma-separated folds to run (default: all)")
    p.add_argument("--json", help="also write per-fold metrics to this JSON file")
    p = sub.add_parser("classify", help="label passages; one JSON object per text on stdout")
    p.add_argument("text", nargs="*")
    p.add_argument("--file", help="a text file with one passage per line")
    p.add_argument("--targets", help="comma-separated stance targets (default: the scheme's)")
    p.add_argument("--version")
    p.add_argument("--no-evidence", action="store_true")
    p = sub.add_parser("models", help="list model versions, or activate one (rollback / roll forward)")
    p.add_argument("action", nargs="?", choices=["list", "activate"], default="list")
    p.add_argument("version", nargs="?")
    p = sub.add_parser("serve", help="run the HTTP API (default 127.0.0.1:8000, docs at /docs)")
    p.add_argument("--host", help="default: $FRAMELENS_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, help="default: $FRAMELENS_PORT or 8000")
    p.add_argument("--workers", type=int, help="processes (default 1: one model copy, one batcher)")
    p.add_argument("--version", help="serve this model version instead of the active one")
    p.add_argument("--threads", type=int, help="torch threads per worker (default: $FRAMELENS_THREADS or 2)")
    p = sub.add_parser("hash-key", help="print the SHA-256 hash of an API key, for FRAMELENS_API_KEY_HASHES")
    p.add_argument("key", nargs="?", help="the key (read from stdin when left out)")
    p = sub.add_parser("bootstrap", help="train and activate the default model if none is active")
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("agreement", help="Cohen's kappa between two annotations of the same passages")
    p.add_argument("file", help="JSONL rows with 'first' and 'second' label sets")
    p.add_argument("--scheme", default="ukraine-war")
    add_batch_commands(sub)
    add_retrain_commands(sub)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "cv": cmd_cv,
    "classify": cmd_classify,
    "models": cmd_models,
    "agreement": cmd_agreement,
    "serve": cmd_serve,
    "hash-key": cmd_hash_key,
    "bootstrap": cmd_bootstrap,
    "score": cmd_score,
    "report": cmd_report,
    **RETRAIN_COMMANDS,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    if args.home:
        settings = settings.model_copy(update={"home": Path(args.home)})
    try:
        return COMMANDS[args.command](args, settings)
    except FramelensError as exc:
        print(f"framelens: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("framelens: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
