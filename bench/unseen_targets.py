"""Stance toward targets no training passage labelled: the frozen test split of seeds/ukraine-war/targets (16
targets that never appear as labels in training), for trained hybrid versions, mean ± sd, beside TF-IDF + LR.

    python bench/unseen_targets.py --home models --versions v…,v…,v…

Each version is asked about each test passage's own targets (torch backend). TF-IDF + logistic regression is fitted
on the train split of the same files (the target's words as features of their own, as the training baseline does).
Also prints each version's Ukraine and Russia stance macro-F1 on the seeds' own test split, where a hybrid model
must stay close to the heads-only default. Train the versions with, for example:

    framelens train seeds/ukraine-war/passages.jsonl seeds/ukraine-war/coverage/passages.jsonl \\
      seeds/ukraine-war/real/paragraphs.jsonl seeds/ukraine-war/targets/passages.jsonl --scheme ukraine-war \\
      --config seeds/ukraine-war/recipe.json --seed 13 --no-activate
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "seeds" / "ukraine-war"
FILES = [
    SEEDS / "passages.jsonl",
    SEEDS / "coverage" / "passages.jsonl",
    SEEDS / "real" / "paragraphs.jsonl",
    SEEDS / "targets" / "passages.jsonl",
]


def test_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == "test"]


def unseen_pairs(rows: list[dict]) -> list[tuple[str, str, str]]:
    """(text, target, gold) for each test passage's own named targets (not Ukraine or Russia)."""
    return [(r["text"], t, r["stance"][t]) for r in rows for t in r["targets"]]


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, average="macro"))


def tfidf_unseen(pairs: list[tuple[str, str, str]]) -> float:
    from sklearn.linear_model import LogisticRegression

    from framelens.model.scheme import Scheme
    from framelens.training.baseline import _pairs, _vectorizer
    from framelens.training.pipeline import load_all
    from framelens.training.splits import split_examples

    train = split_examples(load_all(FILES, Scheme.load("ukraine-war")))["train"]
    x, y, _ = _pairs(train)
    vectorizer = _vectorizer().fit(x)
    clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(vectorizer.transform(x), y)
    texts = [" ".join(f"T_{w}" for w in target.lower().split()) + " " + text for text, target, _ in pairs]
    return macro_f1([g for _, _, g in pairs], list(clf.predict(vectorizer.transform(texts))))


def version_figures(version_dir: Path, pairs: list[tuple[str, str, str]], seeds_test: list[dict]) -> dict[str, float]:
    from framelens.model.predictor import Predictor

    predictor = Predictor.load(version_dir, threads=2)
    predicted = [
        predictor.classify([text], targets=[target], evidence=False)[0].stance[target].label
        for text, target, _ in pairs
    ]
    figures = {"unseen": macro_f1([g for _, _, g in pairs], predicted)}
    results = predictor.classify([r["text"] for r in seeds_test], targets=["Ukraine", "Russia"], evidence=False)
    for target in ("Ukraine", "Russia"):
        labelled = [(p, r) for p, r in zip(results, seeds_test, strict=True) if target in r.get("stance", {})]
        gold = [r["stance"][target] for _, r in labelled]
        guess = [p.stance[target].label for p, _ in labelled]
        figures[target] = macro_f1(gold, guess)
    return figures


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("models"))
    parser.add_argument("--versions", required=True, help="comma-separated hybrid versions in --home")
    args = parser.parse_args()
    pairs = unseen_pairs(test_rows(SEEDS / "targets" / "passages.jsonl"))
    seeds_test = test_rows(SEEDS / "passages.jsonl")
    rows = {v: version_figures(args.home / "versions" / v, pairs, seeds_test) for v in args.versions.split(",")}
    print(f"{len(pairs)} unseen-target pairs; {len(seeds_test)} seeds' test passages")
    print(f"{'version':28s} {'unseen macro-F1':>16s} {'Ukraine (seeds)':>16s} {'Russia (seeds)':>15s}")
    for version, f in rows.items():
        print(f"{version:28s} {f['unseen']:16.3f} {f['Ukraine']:16.3f} {f['Russia']:15.3f}")
    keys = ("unseen", "Ukraine", "Russia")
    print(f"{'mean ± sd':28s} " + " ".join(f"{mean_sd([f[k] for f in rows.values()]):>16s}" for k in keys))
    print(f"TF-IDF + LR, unseen targets: {tfidf_unseen(pairs):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
