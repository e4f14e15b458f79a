"""Does labelling ~100 passages of a kind the seeds under-cover help? F1 before and after, on held-out ones.

    python bench/retrain_gain.py                        # the active version in $FRAMELENS_HOME (./models)
    python bench/retrain_gain.py --extra seeds/ukraine-war/extra/short-briefs.jsonl --epochs 2 --threads 2

The extra file's `split: train` rows are the new labelled passages, its `split: test` rows are held out (the
default file: 135 original news briefs under 30 words, a kind that makes up 3 % of the seeds; 102 train, 33
held out). From the active version, two candidates are trained in a scratch registry (the real one is left
alone), exactly as `POST /v1/train` retrains (init_from the active version, its training config):

  control    the active version's own training files only, for the same epochs: more training, no new data
  with-new   the same files plus the new passages

All three models are scored by the gate's code (training.gate.evaluate) on the held-out passages of the kind
and on the seeds' frozen test split, and the gate's verdict on `with-new` against the active model is printed.
On 2 CPU cores each candidate takes minutes (about 2 epochs x 1,200 passages)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_EXTRA = Path(__file__).resolve().parents[1] / "seeds" / "ukraine-war" / "extra" / "short-briefs.jsonl"


def figures(metrics: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    frames = metrics.get("frames") or {}
    if frames:
        out["frames macro-F1"] = frames["macro_f1"]
        out["frames micro-F1"] = frames["micro_f1"]
        for name, block in frames["per_label"].items():
            out[f"  {name} F1 (n={block['support']})"] = block["f1"]
    for target, block in ((metrics.get("stance") or {}).get("per_target") or {}).items():
        out[f"stance {target} macro-F1"] = block["macro_f1"]
        out[f"stance {target} accuracy"] = block["accuracy"]
    return out


def table(title: str, columns: dict[str, dict[str, Any]]) -> str:
    rows = {name: figures(m) for name, m in columns.items()}
    keys = list(next(iter(rows.values())))
    width = max(len(k) for k in keys) + 2
    lines = [title, f"{'metric':<{width}}" + "".join(f"{name:>12}" for name in rows)]
    for key in keys:
        lines.append(f"{key:<{width}}" + "".join(f"{rows[n].get(key, float('nan')):>12.3f}" for n in rows))
    return "\n".join(lines)


def main() -> int:
    import torch

    from framelens.model.artifact import load_artifact
    from framelens.model.scheme import Scheme
    from framelens.training.examples import load_examples
    from framelens.training.gate import GatePolicy, checks, evaluate
    from framelens.training.pipeline import load_all, train_version
    from framelens.training.registry import Registry
    from framelens.training.retrain import base_config
    from framelens.training.splits import split_examples
    from framelens.training.store import recorded_files

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=os.environ.get("FRAMELENS_HOME", "models"))
    parser.add_argument("--extra", default=str(DEFAULT_EXTRA), help="labelled passages with split train / test")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-control", action="store_true", help="train only the candidate with the new data")
    parser.add_argument("--json", help="also write every metric table to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    registry = Registry(args.home)
    active = registry.active()
    if active is None:
        sys.exit(f"no active model in {args.home}: run `framelens bootstrap` first")
    active_dir = registry.path(active)
    scheme = Scheme.load(active_dir / "scheme.json")
    seeds: list[str | Path] = list(recorded_files(registry.metadata(active)))
    extra = load_examples(args.extra, scheme)
    new = [e for e in extra if e.split == "train"]
    held = [e for e in extra if e.split == "test"]
    seed_test = split_examples(load_all(seeds, scheme))["test"]
    print(f"active {active}; seeds {[str(s) for s in seeds]} (frozen test {len(seed_test)} passages)")
    print(f"{args.extra}: {len(new)} new labelled passages, {len(held)} held out; epochs {args.epochs}", flush=True)

    baseline = load_artifact(active_dir)
    kind: dict[str, dict[str, Any]] = {"active": evaluate(baseline, held)}
    seed: dict[str, dict[str, Any]] = {"active": evaluate(baseline, seed_test)}
    scratch = Path(tempfile.mkdtemp(prefix="framelens-gain-"))
    try:
        shutil.copytree(active_dir, scratch / "versions" / active)
        lab = Registry(scratch)
        lab.activate(active)
        config = base_config(active_dir).replace(init_from=active, epochs=args.epochs, threads=args.threads)
        # The candidate with the new passages first: its figures print as soon as it is done.
        runs = [("with-new", new)] if args.skip_control else [("with-new", new), ("control", [])]
        for name, added in runs:
            began = time.monotonic()
            result = train_version(seeds, scheme, config, lab, activate=False, extra=added)
            candidate = load_artifact(result.path)
            kind[name], seed[name] = evaluate(candidate, held), evaluate(candidate, seed_test)
            print(f"{name}: trained in {time.monotonic() - began:.0f} s", flush=True)
            print(table("held-out passages of the new kind, so far:", kind), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print()
    print(table(f"held-out passages of the new kind ({len(held)}, {Path(args.extra).name}):", kind))
    print()
    print(table(f"seeds' frozen test split ({len(seed_test)} passages):", seed))
    verdict = checks(seed["with-new"], seed["active"], GatePolicy())
    failed = [c["metric"] for c in verdict if not c["ok"]]
    print(
        f"\ngate on the seeds' test split, with-new vs active: {'PROMOTE' if not failed else 'REFUSE ' + str(failed)}"
    )
    gain = kind["with-new"]["frames"]["macro_f1"] - kind["active"]["frames"]["macro_f1"]
    print(
        f"frames macro-F1 on the held-out kind: {kind['active']['frames']['macro_f1']:.3f} before, "
        f"{kind['with-new']['frames']['macro_f1']:.3f} after ({gain:+.3f})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"kind": kind, "seed_test": seed}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
