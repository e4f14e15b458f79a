"""Stance toward targets no one trained for: claim-stance-2017's 30 test topics (stance toward the target, as the
fixed files give it), mean ± sd over seeds, beside TF-IDF + logistic regression on the same training claims.

    python bench/claim_stance.py [--seeds 13,14,15] [--data ../shared/datasets/claim-stance-2017] [--config C]
        [--home runs/claim-stance] [--claim-target-pairs]

Each seed trains a paired-mode version on train.jsonl (25 topics; its own hash split gives dev) and is
evaluated on test.jsonl (30 other topics). Prints macro-F1 and accuracy, pooled over the test claims.

--claim-target-pairs uses IBM's decomposition annotations, in training only: each training claim whose
`claim_target` and `claim_sentiment` are given is also labelled toward its claim target, with the claim's
sentiment toward it as the stance (+1 favor, -1 against): a second target on the same row, so the paired head
learns target-conditioned sentiment as well as the topic's stance. The rows are written to --home as a new
training file (read from --data at run time; nothing of the data set is kept in the repository)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def with_claim_target_pairs(train_file: Path, home: Path) -> Path:
    """train.jsonl's rows, each claim with IBM's claim target and sentiment also labelled toward that target."""
    rows = [json.loads(line) for line in train_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    out, added = [], 0
    for row in rows:
        stance = dict(row["stance"])
        target, sentiment = row.get("claim_target"), row.get("claim_sentiment")
        if target and sentiment in (1, -1) and target not in stance:
            stance[target] = "favor" if sentiment == 1 else "against"
            added += 1
        out.append({"id": row["id"], "text": row["text"], "stance": stance})
    home.mkdir(parents=True, exist_ok=True)
    path = home / "train-with-claim-targets.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in out), encoding="utf-8")
    print(f"{added} claim-target pairs added to {len(rows)} training claims", file=sys.stderr)
    return path


def main() -> int:
    from framelens.model.scheme import Scheme
    from framelens.training.baseline import baseline_metrics
    from framelens.training.config import TrainingConfig
    from framelens.training.pipeline import evaluate_version, load_all, train_version
    from framelens.training.registry import Registry
    from framelens.training.splits import split_examples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "claim-stance-2017"))
    parser.add_argument("--seeds", default="13,14,15")
    parser.add_argument("--config", help="training config JSON (default: the defaults, stance_mode paired)")
    parser.add_argument("--home", default="runs/claim-stance")
    parser.add_argument("--claim-target-pairs", action="store_true", help="train on IBM's claim-target pairs too")
    args = parser.parse_args()
    scheme = Scheme.load("claim-stance")
    train_file, test_file = Path(args.data) / "train.jsonl", Path(args.data) / "test.jsonl"
    if args.claim_target_pairs:
        train_file = with_claim_target_pairs(train_file, Path(args.home))
    base = TrainingConfig.load(args.config) if args.config else TrainingConfig()
    registry = Registry(args.home)
    test = load_all([test_file], scheme)
    parts = split_examples(load_all([train_file], scheme))
    baseline = baseline_metrics(scheme, parts["train"], parts["dev"], test)["stance"]["all"]
    rows: dict[str, list[float]] = {"macro-F1": [], "accuracy": []}
    for seed in (int(s) for s in args.seeds.split(",")):
        result = train_version([train_file], scheme, base.replace(seed=seed), registry, progress=False)
        stance = evaluate_version(result.path, [test_file])["model"]["stance"]["all"]
        rows["macro-F1"].append(stance["macro_f1"])
        rows["accuracy"].append(stance["accuracy"])
        print(f"seed {seed}: {result.version} macro-F1 {stance['macro_f1']:.3f}", file=sys.stderr, flush=True)
    print(f"claim-stance test, {len(test)} claims on 30 unseen topics; seeds {args.seeds}")
    print(f"{'':<12} {'framelens':>15} {'TF-IDF + LR':>12}")
    for key, values in rows.items():
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        other = baseline["macro_f1" if key == "macro-F1" else "accuracy"]
        print(f"{key:<12} {statistics.mean(values):>8.3f} ± {sd:.3f} {other:>12.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
