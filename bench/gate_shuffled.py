"""Does the gate refuse a model trained on garbage? A real retrain on deliberately shuffled labels.

    python bench/gate_shuffled.py                      # the active version in $FRAMELENS_HOME (./models)
    python bench/gate_shuffled.py --epochs 2 --threads 2

The active version's seed files are copied with the labels of their train and dev rows shuffled among those rows
(frames and stance together; the frozen test rows keep theirs). A scratch copy of the registry then retrains
exactly as `POST /v1/train` does (training.retrain.retrain: from the active version, gated on the frozen test
split, promoted only if the gate says so). Prints the gate's checks, and whether the scratch registry's active
version is still the old one. The real registry is never touched. Exits 1 if the shuffled candidate was promoted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shuffle_labels(source: Path, out: Path, test_ids: set[str], seed: int) -> int:
    """Write `source` to `out` with the labels of its non-test rows permuted among them; returns rows moved."""
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    movable = [r for r in rows if str(r["id"]) not in test_ids]
    labels = [(r.get("frames", []), r.get("stance", {})) for r in movable]
    random.Random(seed).shuffle(labels)
    for row, (frames, stance) in zip(movable, labels, strict=True):
        row["frames"], row["stance"] = frames, stance
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(movable)


def main() -> int:
    from framelens.model.scheme import Scheme
    from framelens.training.pipeline import load_all
    from framelens.training.registry import Registry
    from framelens.training.retrain import RetrainRequest, retrain
    from framelens.training.splits import split_examples
    from framelens.training.store import recorded_files

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=os.environ.get("FRAMELENS_HOME", "models"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7, help="of the shuffle")
    args = parser.parse_args()

    registry = Registry(args.home)
    active = registry.active()
    if active is None:
        sys.exit(f"no active model in {args.home}: run `framelens bootstrap` first")
    scheme = Scheme.load(registry.path(active) / "scheme.json")
    seeds = [Path(f) for f in recorded_files(registry.metadata(active))]
    test_ids = {ex.id for ex in split_examples(load_all(list(seeds), scheme))["test"]}
    scratch = Path(tempfile.mkdtemp(prefix="framelens-shuffled-"))
    try:
        shutil.copytree(registry.path(active), scratch / "home" / "versions" / active)
        lab = Registry(scratch / "home")
        lab.activate(active)
        shuffled = []
        for i, path in enumerate(seeds):
            out = scratch / f"shuffled-{i}-{path.name}"
            moved = shuffle_labels(path, out, test_ids, args.seed)
            print(f"{path}: labels of {moved} train/dev rows shuffled; {len(test_ids)} test rows kept", flush=True)
            shuffled.append(str(out))
        request = RetrainRequest(epochs=args.epochs, threads=args.threads, seed_files=shuffled)
        outcome = retrain(lab.root, request)
        still = lab.active()
        print(f"\ncandidate {outcome.version}: {'PROMOTED' if outcome.promoted else 'refused'}")
        for check in outcome.decision.get("checks", []):
            mark = "ok  " if check["ok"] else "FAIL"
            print(f"  {mark} {check['metric']}: {check['active']:.3f} -> {check['candidate']:.3f}")
        print(f"active version afterwards: {still} ({'unchanged' if still == active else 'CHANGED'})")
        return 0 if not outcome.promoted and still == active else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
