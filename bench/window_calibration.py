"""Do frame scores mean the same for a passage and an article? False-positive rate and recall against windows.

    python bench/window_calibration.py [--home models] [--version V] [--sizes 1,4,8,16] [--per-size 24]

Articles are built from k of the seeds' frozen test passages (joined as paragraphs, labelled with the union of
their frames), as many windows long as k makes them. For each k it prints the mean windows read, the mean score
of frames no passage carries, their false-positive rate, the recall of frames some passage carries, and macro-F1;
"before" scores with the version's calibration less its window term (what every version before it did), "after"
with the whole calibration. Both come from the same forward passes, so they are compared in one run."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from framelens.model.predictor import Predictor
    from framelens.model.scheme import SEEDS_DIR
    from framelens.training.articles import built_articles
    from framelens.training.examples import load_examples
    from framelens.training.registry import Registry
    from framelens.training.scoring import collect_raw

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default="models")
    parser.add_argument("--version", help="default: the active one")
    parser.add_argument("--data", default=str(SEEDS_DIR / "ukraine-war" / "passages.jsonl"))
    parser.add_argument("--sizes", default="1,2,4,8,16")
    parser.add_argument("--per-size", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    registry = Registry(args.home)
    version = args.version or registry.active()
    if version is None:
        raise SystemExit(f"no active model in {args.home}")
    predictor = Predictor.load(registry.path(version), threads=args.threads)
    a, names = predictor.artifact, predictor.scheme.frame_names
    test = [ex for ex in load_examples(args.data, a.scheme) if ex.split == "test"]
    sizes = [int(k) for k in args.sizes.split(",")]
    after = a.calibration
    before = dataclasses.replace(after, window_slope=0.0)
    print(f"model {version}; window slope {after.window_slope:+.2f}; {args.per_size} articles per size")
    header = f"{'k':>3} {'windows':>8} | {'absent score':>12} {'FPR':>6} {'recall':>6} {'macro-F1':>8}"
    print(f"{'':13}| {'before':^36} | {'after':^36}\n{header} |{header[14:]}")
    for k in sizes:
        articles = test[: args.per_size] if k == 1 else built_articles(test, sizes=(k,), per_size=args.per_size, seed=k)
        raw = collect_raw(predictor.net, a.tokenizer, a.spec, a.scheme, articles, 32)
        cells = []
        for calibration in (before, after):
            scores = calibration.frame_scores(raw.frame_logits, names, raw.frame_windows)
            predicted = scores >= calibration.threshold_vector(names)
            gold = raw.frame_gold.astype(bool)
            fpr = predicted[~gold].mean() if (~gold).any() else float("nan")
            recall = predicted[gold].mean() if gold.any() else float("nan")
            macro = f1_score(gold, predicted, average="macro", zero_division=0)
            cells.append(f"{scores[~gold].mean():>12.3f} {fpr:>6.3f} {recall:>6.3f} {macro:>8.3f}")
        windows = float(np.mean(raw.frame_windows))
        print(f"{k:>3} {windows:>8.1f} | {cells[0]} | {cells[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
