"""Stance toward targets no training passage labelled: the frozen test split of seeds/ukraine-war/targets (16
targets that never appear as labels in training), for trained hybrid versions, mean ± sd, beside TF-IDF + LR.

    python bench/unseen_targets.py --home models --versions v…,v…,v…

Each version is asked about each test passage's own targets (torch backend). TF-IDF + logistic regression is fitted
on the train split of the same files (the target's words as features of their own, as the training baseline does).
Also prints each version's Ukraine and Russia stance macro-F1 and frames macro-F1 on the seeds' own test split and
on the default model's whole test split (seeds, coverage, real), where a hybrid model must stay close to the
heads-only default; `--beside v…,v…` prints heads-only versions (seeds 13, 14, 15, say) under the same figures.

The two-stage hybrid (what `FRAMELENS_HYBRID_RECIPE=seeds/ukraine-war/hybrid-recipe.json framelens bootstrap`
trains): heads-only on the seeds, then a second stage on the seeds plus the targets corpus, from that version and
distilled from it. By hand, per seed:

    framelens train seeds/ukraine-war/passages.jsonl seeds/ukraine-war/coverage/passages.jsonl \\
      seeds/ukraine-war/real/paragraphs.jsonl --scheme ukraine-war --config seeds/ukraine-war/recipe.json \\
      --seed 14 --no-activate
    framelens train seeds/ukraine-war/passages.jsonl seeds/ukraine-war/coverage/passages.jsonl \\
      seeds/ukraine-war/real/paragraphs.jsonl seeds/ukraine-war/targets/passages.jsonl --scheme ukraine-war \\
      --config seeds/ukraine-war/hybrid-recipe.json --init-from v…(the first) --seed 14 --no-activate
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
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


def stance_and_frames(version_dir: Path, test_file: Path) -> dict[str, float]:
    """Ukraine and Russia stance macro-F1 and frames macro-F1 of a version on every passage of `test_file`."""
    from framelens.training.pipeline import evaluate_version

    model = evaluate_version(version_dir, [test_file])["model"]
    per_target = model["stance"]["per_target"]
    return {
        "Ukraine": per_target["Ukraine"]["macro_f1"],
        "Russia": per_target["Russia"]["macro_f1"],
        "frames": model["frames"]["macro_f1"],
    }


def version_figures(version_dir: Path, pairs: list[tuple[str, str, str]], tests: dict[str, Path]) -> dict[str, float]:
    """Unseen-target macro-F1 (NaN for a heads-only version, which answers its own targets only), then stance and
    frames on each test file."""
    from framelens.model.predictor import Predictor

    predictor = Predictor.load(version_dir, threads=2)
    figures = {"unseen": float("nan")}
    if predictor.artifact.spec.paired_stance:
        predicted = [
            predictor.classify([text], targets=[target], evidence=False)[0].stance[target].label
            for text, target, _ in pairs
        ]
        figures["unseen"] = macro_f1([g for _, _, g in pairs], predicted)
    for name, test_file in tests.items():
        figures.update({f"{name} {k}": v for k, v in stance_and_frames(version_dir, test_file).items()})
    return figures


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def mean_sd(values: list[float]) -> str:
    values = [v for v in values if v == v]  # NaN: not measured
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def table(rows: dict[str, dict[str, float]], keys: list[str]) -> None:
    print(f"{'version':26s} " + " ".join(f"{k:>17s}" for k in keys))
    for version, f in rows.items():
        print(f"{version:26s} " + " ".join(f"{f[k]:17.3f}" for k in keys))
    print(f"{'mean ± sd':26s} " + " ".join(f"{mean_sd([f[k] for f in rows.values()]):>17s}" for k in keys))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("models"))
    parser.add_argument("--versions", required=True, help="comma-separated hybrid versions in --home")
    parser.add_argument("--beside", default="", help="comma-separated heads-only versions to compare with")
    args = parser.parse_args()
    pairs = unseen_pairs(test_rows(SEEDS / "targets" / "passages.jsonl"))
    seeds_test, default_test = test_rows(SEEDS / "passages.jsonl"), [r for f in FILES[:3] for r in test_rows(f)]
    print(
        f"{len(pairs)} unseen-target pairs; test passages: seeds' {len(seeds_test)}, "
        f"the default model's test split (seeds, coverage, real) {len(default_test)}"
    )
    keys = ["unseen"] + [f"{name} {k}" for name in ("seeds", "default") for k in ("Ukraine", "Russia", "frames")]
    with tempfile.TemporaryDirectory() as folder:
        tests = {
            "seeds": write_rows(Path(folder) / "seeds-test.jsonl", seeds_test),
            "default": write_rows(Path(folder) / "default-test.jsonl", default_test),
        }
        for label, names in (("hybrid", args.versions), ("heads only", args.beside)):
            if names:
                print(f"\n{label}:")
                table({v: version_figures(args.home / "versions" / v, pairs, tests) for v in names.split(",")}, keys)
    print(f"\nTF-IDF + LR, unseen targets: {tfidf_unseen(pairs):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
