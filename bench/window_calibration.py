"""Do frame scores mean the same for a passage and an article? False-positive rate and recall against windows.

    python bench/window_calibration.py [--home models] [--version V] [--sizes 1,2,4,8,16] [--per-size 24]

Articles are built from k of the seeds' frozen test passages (joined as paragraphs, labelled with the union of
their frames). For each k it prints the mean windows read, the mean score of frames no passage carries, their
false-positive rate, the recall of frames some passage carries, and macro-F1, two ways with the same weights:
"before" reads articles as versions made before paragraph windows did (windows packed to the token budget, no
window term in the calibration); "after" reads them a paragraph a window, with the window term fitted on dev
articles exactly as training fits it (training/window_calibration.py)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from framelens.training.evaluation import expected_calibration_error  # noqa: E402


def main() -> int:
    from framelens.model.predictor import Predictor
    from framelens.model.scheme import SEEDS_DIR
    from framelens.training.articles import built_articles
    from framelens.training.examples import load_examples
    from framelens.training.registry import Registry
    from framelens.training.scoring import collect_raw
    from framelens.training.window_calibration import calibrate_windows

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
    rows = load_examples(args.data, a.scheme)
    test, dev = [ex for ex in rows if ex.split == "test"], [ex for ex in rows if ex.split == "dev"]
    packed = dataclasses.replace(a.spec, paragraph_windows=False)
    paragraphs = dataclasses.replace(a.spec, paragraph_windows=True)
    before = dataclasses.replace(a.calibration, window_slope=0.0)
    dev_raw = collect_raw(predictor.net, a.tokenizer, paragraphs, a.scheme, dev, 32)
    after = calibrate_windows(predictor.net, a.tokenizer, paragraphs, a.scheme, dev, dev_raw, before, seed=13)
    print(f"model {version}; after: paragraph windows, window slope {after.window_slope:+.2f} (fitted on dev)")
    print(f"{args.per_size} articles per size, built from the seeds' test passages")
    head = f"{'windows':>7} {'absent':>6} {'FPR':>6} {'recall':>6} {'F1':>6} {'ECE':>6}"
    print(f"{'':>3} | {'before':^34} | {'after':^34}\n{'k':>3} | {head} | {head}")
    for k in (int(s) for s in args.sizes.split(",")):
        articles = test[: args.per_size] if k == 1 else built_articles(test, (k,), args.per_size, seed=k)
        cells = [
            _cells(collect_raw(predictor.net, a.tokenizer, spec, a.scheme, articles, 32), calibration, names)
            for spec, calibration in ((packed, before), (paragraphs, after))
        ]
        print(f"{k:>3} | {cells[0]} | {cells[1]}")
    print("absent: mean score of frames no passage carries; FPR: their share predicted; recall: of frames present;")
    print("ECE: expected calibration error of every (article, frame) score against whether the article carries it")
    return 0


def _cells(raw: Any, calibration: Any, names: list[str]) -> str:
    scores = calibration.frame_scores(raw.frame_logits, names, raw.frame_windows)
    predicted = scores >= calibration.threshold_vector(names)
    gold = raw.frame_gold.astype(bool)
    macro = f1_score(gold, predicted, average="macro", zero_division=0)
    windows = float(np.mean(raw.frame_windows))
    absent, fpr, recall = scores[~gold].mean(), predicted[~gold].mean(), predicted[gold].mean()
    ece = expected_calibration_error(scores.ravel(), gold.ravel().astype(float))
    return f"{windows:>7.1f} {absent:>6.3f} {fpr:>6.3f} {recall:>6.3f} {macro:>6.3f} {ece:>6.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
