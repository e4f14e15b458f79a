"""Retrain: the active model's data plus the stored examples -> a gated candidate version, promoted if it passes.

`python -m framelens.training.retrain --home HOME --job ID [--parent PID]` runs one job of the job store in its own
process (the API starts it so that serving stays responsive); it dies with its parent, and a dead process leaves
only a staging folder that the registry removes, never a half version."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framelens.model.artifact import Artifact, load_artifact
from framelens.model.errors import FramelensError
from framelens.model.scheme import Scheme
from framelens.training.backends import check_parity
from framelens.training.config import TrainingConfig
from framelens.training.examples import Example
from framelens.training.gate import GatePolicy, decide, summary, write_decision
from framelens.training.pipeline import load_all, train_version
from framelens.training.registry import Registry
from framelens.training.store import ExampleStore, recorded_files
from framelens.training.train_jobs import TrainJobs

MARKER = "framelens.training.retrain"  # in the child's command line: how a restarted server recognises its process


@dataclass(frozen=True)
class RetrainRequest:
    init_from: str = "active"  # "active": continue from the active version; "base": from its base encoder
    epochs: int | None = None  # default: the epochs the active version was trained with
    seed_files: list[str] = field(default_factory=list)  # default: the files the active version was trained on
    threads: int = 2
    macro_tolerance: float = 0.01
    frame_tolerance: float = 0.05
    promote: bool = True  # False: train and gate, but leave the active version alone

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetrainRequest:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class RetrainOutcome:
    version: str
    promoted: bool
    decision: dict[str, Any]
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "promoted": self.promoted, "gate": summary(self.decision), **self.counts}


def training_data(
    scheme: Scheme, seed_files: list[str | Path], store: ExampleStore, log: Callable[[str], None]
) -> tuple[list[Example], dict[str, int]]:
    """Stored examples that are not already in the seeds (same id or same text): seeds stay read-only, and a
    seed test passage can never leak into training through the store."""
    seeds = load_all(list(seed_files), scheme) if seed_files else []
    ids, texts = {ex.id for ex in seeds}, {" ".join(ex.text.split()) for ex in seeds}
    stored = store.examples(scheme)
    fresh = [ex for ex in stored if ex.id not in ids and " ".join(ex.text.split()) not in texts]
    if len(fresh) < len(stored):
        log(f"{len(stored) - len(fresh)} stored example(s) repeat a seed passage (id or text) and are left out")
    return fresh, {"seed_examples": len(seeds), "stored_examples": len(fresh)}


def base_config(version_dir: Path) -> TrainingConfig:
    """The config that made the active version: retraining keeps its choices (max_length, learning rates, …)."""
    path = version_dir / "training_config.json"
    return TrainingConfig.load(path) if path.is_file() else TrainingConfig()


def retrain(
    home: str | Path,
    request: RetrainRequest,
    on_phase: Callable[[str], None] = lambda phase: None,
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> RetrainOutcome:
    registry = Registry(home)
    active = registry.active()
    if active is None:
        raise FramelensError("no active model to retrain: train one first (`framelens train` or `make run`)")
    active_dir = registry.path(active)
    scheme = Scheme.load(active_dir / "scheme.json")
    metadata = registry.metadata(active)
    seed_files: list[str | Path] = list(request.seed_files or recorded_files(metadata))
    on_phase("loading")
    extra, counts = training_data(scheme, seed_files, ExampleStore(home), log)
    # Pin the version id: the candidate starts from the model that was active when the job began.
    start = active if request.init_from == "active" else str(metadata.get("encoder") or request.init_from)
    config = base_config(active_dir).replace(init_from=start, epochs=request.epochs, threads=request.threads)
    log(
        f"retraining from {start} on {len(seed_files)} seed file(s) ({counts['seed_examples']} passages) "
        f"and {counts['stored_examples']} stored example(s); epochs {config.epochs}"
    )
    policy = GatePolicy(request.macro_tolerance, request.frame_tolerance)
    decision: dict[str, Any] = {}

    def gate(staged: Path, candidate: Artifact, parts: dict[str, list[Example]]) -> None:
        on_phase("gate")
        baseline = load_artifact(active_dir)
        decision.update(decide(candidate, baseline, active, parts["test"], policy, config.eval_batch_size))
        write_decision(staged, decision)
        retrain_info = {"request": asdict(request), "seed_files": [str(f) for f in seed_files], **counts}
        (staged / "retrain.json").write_text(json.dumps(retrain_info, indent=2) + "\n", encoding="utf-8")
        log("gate: " + ("PROMOTE" if decision["promote"] else "REFUSE") + " — " + "; ".join(decision["reasons"]))
        if decision["promote"] and request.promote:
            # Export and check the fast backends here, in the training process, so that the server that swaps
            # this version in finds the record and loads it in seconds instead of exporting while it serves.
            on_phase("exporting")
            record = check_parity(staged, threads=request.threads)
            passed = [name for name, entry in record["backends"].items() if entry.get("passed")]
            log(f"backends that passed parity: {', '.join(passed)}")

    on_phase("training")
    result = train_version(
        seed_files, scheme, config, registry, activate=False, progress=progress, extra=extra, before_commit=gate
    )
    promoted = False
    if decision.get("promote") and request.promote:
        on_phase("promoting")
        if registry.active() == active:
            registry.activate(result.version)
            promoted = True
        else:
            log(f"the active version changed during training (now {registry.active()}): {result.version} kept aside")
    log(f"version {result.version} {'is now active' if promoted else 'kept in the registry, not active'}")
    return RetrainOutcome(result.version, promoted, decision, counts)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when its parent dies (a kill -9 of the server); a watcher thread
    covers the moment before the call and other systems."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="framelens-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m framelens.training.retrain", description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--parent", type=int, help="exit when this process (the server) dies")
    args = parser.parse_args(argv)
    if args.parent:
        _die_with_parent(args.parent)
    # SIGTERM (a graceful server stop) unwinds normally, so the staging folder is removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    jobs = TrainJobs(args.home)
    job = jobs.get(args.job)
    jobs.started(job.id, os.getpid())
    try:
        outcome = retrain(
            args.home,
            RetrainRequest.from_dict(job.request),
            on_phase=lambda phase: jobs.set_phase(job.id, phase),
            log=lambda line: print(line, flush=True),
        )
    except FramelensError as exc:
        print(f"framelens: {exc}", file=sys.stderr, flush=True)
        jobs.fail(job.id, str(exc))
        return 2
    except BaseException as exc:
        traceback.print_exc()
        reason = "stopped" if isinstance(exc, SystemExit | KeyboardInterrupt) else f"crashed: {exc!r}"
        jobs.fail(job.id, f"the training process {reason}; no version was kept")
        return 1
    jobs.succeed(job.id, outcome.to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
