"""Quality where it counts: a model version (or several seeds of one recipe) on the real paragraphs' frozen test
part, beside the seeds' test split and TF-IDF + logistic regression trained on the same data.

    python bench/real_text.py --home models                        # the active version
    python bench/real_text.py --home runs/h --versions v1,v2,v3     # several seeds: mean ± sd
    python bench/real_text.py --train --config recipe.json --seeds 13,14,15 --data seeds/... --home runs/h

With --train, each seed trains a version from --data (the recipe in --config, stance_mode etc.) into --home
first. The baseline trains on the train rows of each version's own recorded data files (dev tunes its
thresholds), so both systems see the same data and neither sees a test row. Prints frames macro-F1, the F1 of
the frames that failed on real text, stance macro-F1 per target, stance accuracy and the always-neutral rate."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REAL = ROOT / "seeds" / "ukraine-war" / "real" / "paragraphs.jsonl"
SEEDS = ROOT / "seeds" / "ukraine-war" / "passages.jsonl"
TARGETS = ("Ukraine", "Russia")


def _test_file(source: Path, folder: Path) -> Path:
    rows = [line for line in source.read_text(encoding="utf-8").splitlines() if json.loads(line).get("split") == "test"]
    out = folder / f"{source.parent.name}-{source.stem}-test.jsonl"
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def _figures(metrics: dict[str, Any], neutral_rate: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    if metrics.get("frames"):
        out["frames macro-F1"] = metrics["frames"]["macro_f1"]
        for frame in ("war_fatigue", "escalation"):
            out[f"  {frame} F1"] = metrics["frames"]["per_label"][frame]["f1"]
    stance = metrics.get("stance") or {}
    for target in TARGETS:
        block = (stance.get("per_target") or {}).get(target)
        if block:
            out[f"stance macro-F1 {target}"] = block["macro_f1"]
    if stance.get("all"):
        out["stance accuracy (both)"] = stance["all"]["accuracy"]
        out["  always-neutral accuracy"] = statistics.mean(neutral_rate.values())
    return out


def _neutral_rate(path: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {t: sum(r["stance"].get(t) == "neutral" for r in rows) / len(rows) for t in TARGETS}


def main() -> int:
    from framelens.model.scheme import Scheme
    from framelens.training.baseline import baseline_metrics
    from framelens.training.config import TrainingConfig
    from framelens.training.pipeline import evaluate_version, load_all, train_version
    from framelens.training.registry import Registry
    from framelens.training.splits import split_examples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default="models")
    parser.add_argument("--versions", help="comma-separated versions (default: the active one)")
    parser.add_argument("--train", action="store_true", help="train one version per --seeds first")
    parser.add_argument("--config", help="training config JSON for --train")
    parser.add_argument("--seeds", default="13,14,15")
    parser.add_argument("--data", nargs="+", default=[str(SEEDS)], help="training files for --train")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    registry = Registry(args.home)
    if args.train:
        base = TrainingConfig.load(args.config) if args.config else TrainingConfig()
        versions = []
        for seed in (int(s) for s in args.seeds.split(",")):
            print(f"training seed {seed} on {args.data} …", file=sys.stderr, flush=True)
            result = train_version(args.data, Scheme.load("ukraine-war"), base.replace(seed=seed), registry)
            print(f"  {result.version} in {result.metrics.get('elapsed_s', 0):.0f} s", file=sys.stderr)
            versions.append(result.version)
    else:
        versions = args.versions.split(",") if args.versions else [str(registry.active())]
    with tempfile.TemporaryDirectory() as scratch:
        tests = {
            "real test part": _test_file(REAL, Path(scratch)),
            "seeds' test split": _test_file(SEEDS, Path(scratch)),
        }
        table: dict[str, dict[str, list[float]]] = {}
        for version in versions:
            meta = registry.metadata(version)
            scheme = Scheme.load(registry.path(version) / "scheme.json")
            parts = split_examples(load_all(meta["data"]["files"], scheme))  # what the version trained on
            for name, test in tests.items():
                result = evaluate_version(registry.path(version), [test])
                baseline = baseline_metrics(scheme, parts["train"], parts["dev"], load_all([test], scheme))
                rate = _neutral_rate(test)
                for system, metrics in (("framelens", result["model"]), ("TF-IDF + LR", baseline)):
                    for key, value in _figures(metrics, rate).items():
                        table.setdefault(f"{name}: {key}", {}).setdefault(system, []).append(value)
    print(f"{len(versions)} version(s): {', '.join(versions)}")
    print(f"{'':<52} {'framelens':>15} {'TF-IDF + LR':>15}")
    for key, systems in table.items():
        cells = []
        for system in ("framelens", "TF-IDF + LR"):
            values = systems.get(system, [])
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.3f} ± {sd:.3f}" if values else "-")
        print(f"{key:<52} {cells[0]:>15} {cells[1]:>15}")
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": versions, "table": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
