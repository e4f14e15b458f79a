"""framelens' inference backends against transformers' pipeline, on the same passages and the same weights.

    python bench/backends.py                                  # the active version in $FRAMELENS_HOME (./models)
    python bench/backends.py --version-dir models/versions/v… --limit 5000 --threads 2

One run cuts >= 5,000 passages of about 128 tokens from the Narrative Frames articles (read in place), then
times each system on the same first `--limit` of them, each in a fresh process (so peak RSS is its own):

  pipeline      transformers' pipeline("text-classification"), as a user writes it first (one passage per call).
                Its model is an AutoModelForSequenceClassification built from the version's fine-tuned encoder;
                its classifier is the version's frames head with the per-frame Platt calibration folded in
                (w' = a·w, b' = a·b + c), and BERT's [CLS] pooler is replaced by framelens' masked mean pooling,
                so its sigmoid scores are framelens' calibrated frame scores, cut at the same thresholds.
  pipeline-b32  the same pipeline called with batch_size=32.
  torch, onnx-fp32, onnx-int8
                framelens' Predictor on each backend: frames only (as the pipeline), no evidence.

Figures: passages/s, speed-up over `pipeline`, peak RSS of the process, and frames macro-F1 on the held-out
labelled passages of the version's data (its dev and test splits, from the files its metadata.json names: 498
for the default model; on its 165 dev passages alone one flipped passage moves macro-F1 by ~0.01). The ONNX
export (cached beside the version) and the parity check happen before any timing; the table also says which
backend "auto" picks.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SYSTEMS = ("pipeline", "pipeline-b32", "torch", "onnx-fp32", "onnx-int8")
STUDENT = "student-"  # with --student: its framelens backends, e.g. student-onnx-int8
MIN_CORPUS = 5000


def active_version(home: Path) -> Path:
    pointer = home / "active.json"
    if not pointer.is_file():
        raise SystemExit(f"no active model in {home}: train one (`framelens train`) or pass --version-dir")
    return home / "versions" / json.loads(pointer.read_text(encoding="utf-8"))["version"]


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent on exec."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def dev_set(version_dir: Path) -> tuple[list[str], Any, list[str], Any]:
    """Held-out (dev + test) texts, gold frame matrix, frame names and the version's calibration."""
    from framelens.model.artifact import load_artifact
    from framelens.training.backends import held_out_examples
    from framelens.training.scoring import frame_gold

    artifact = load_artifact(version_dir, weights=False)
    dev, _ = held_out_examples(version_dir, artifact.scheme)
    dev = [ex for ex in dev if ex.frames_labelled]
    return [ex.text for ex in dev], frame_gold(artifact.scheme, dev), artifact.scheme.frame_names, artifact.calibration


def macro_f1(names: list[str], gold: Any, predicted: Any) -> float | None:
    from framelens.training.evaluation import frame_metrics

    return float(frame_metrics(names, gold, predicted, None)["macro_f1"]) if len(gold) else None


def pipeline_for(version_dir: Path, threads: int) -> Any:
    """transformers' text-classification pipeline on the version's encoder and calibrated frames head."""
    import numpy as np
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForSequenceClassification, pipeline

    from framelens.model.artifact import WEIGHTS, load_artifact

    artifact = load_artifact(version_dir, weights=False)  # tokenizer, scheme, calibration; weights come below
    names = artifact.scheme.frame_names
    config = AutoConfig.from_pretrained(str(version_dir / "encoder"))
    config.num_labels = len(names)
    config.id2label = dict(enumerate(names))
    config.label2id = {n: i for i, n in enumerate(names)}
    config.problem_type = "multi_label_classification"
    model = AutoModelForSequenceClassification.from_config(config)
    state = load_file(str(version_dir / WEIGHTS))
    encoder = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}
    model.base_model.load_state_dict(encoder)
    if not hasattr(model.base_model, "pooler") or not isinstance(model.classifier, torch.nn.Linear):
        raise SystemExit("the pipeline baseline supports BERT-style encoders (pooler + linear classifier)")

    class MaskedMeanPooler(torch.nn.Module):
        mask: torch.Tensor | None = None

        def forward(self, states: torch.Tensor) -> torch.Tensor:
            assert self.mask is not None
            weights = self.mask.unsqueeze(-1).to(states.dtype)
            return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    pooler = MaskedMeanPooler()
    model.base_model.pooler = pooler

    def keep_mask(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        pooler.mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)

    model.base_model.register_forward_pre_hook(keep_mask, with_kwargs=True)
    platt = [artifact.calibration.frame_platt.get(n, (1.0, 0.0)) for n in names]
    slope = torch.tensor([a for a, _ in platt], dtype=torch.float32)
    shift = torch.tensor([b for _, b in platt], dtype=torch.float32)
    with torch.no_grad():
        model.classifier.weight.copy_(state["frames_head.weight"][: len(names)] * slope[:, None])
        model.classifier.bias.copy_(state["frames_head.bias"][: len(names)] * slope + shift)
    del state
    model.eval()
    torch.set_num_threads(threads)
    pipe = pipeline(
        "text-classification",
        model=model,
        tokenizer=cast(Any, artifact.tokenizer),
        device=-1,
        top_k=None,
        function_to_apply="sigmoid",
        truncation=True,
        max_length=artifact.spec.max_length,
    )
    cuts = np.asarray(artifact.calibration.threshold_vector(names))
    return pipe, cuts


def run_pipeline(name: str, version_dir: Path, texts: list[str], threads: int) -> dict[str, Any]:
    import numpy as np

    pipe, cuts = pipeline_for(version_dir, threads)
    batch = 32 if name == "pipeline-b32" else 1

    def decide(outputs: list[list[dict[str, Any]]], names: list[str]) -> Any:
        scores = np.array([[{d["label"]: d["score"] for d in out}[n] for n in names] for out in outputs])
        return (scores >= cuts).astype(int)

    pipe(texts[:8], batch_size=batch)  # warm-up
    began = time.perf_counter()
    pipe(texts, batch_size=batch)
    seconds = time.perf_counter() - began
    dev_texts, gold, names, _ = dev_set(version_dir)
    f1 = macro_f1(names, gold, decide(pipe(dev_texts, batch_size=batch), names)) if dev_texts else None
    return {"seconds": seconds, "dev_macro_f1": f1}


def run_framelens(
    name: str, version_dir: Path, texts: list[str], threads: int, batch_size: int, held_out_from: Path | None = None
) -> dict[str, Any]:
    """`held_out_from`: whose held-out passages F1 is measured on (a student: its teacher's, the same rows)."""
    import numpy as np

    from framelens.model.predictor import Predictor

    predictor = Predictor.load(version_dir, backend=name, threads=threads)
    predictor.batch_size = batch_size or predictor.batch_size
    predictor.classify(texts[:16], targets=[], evidence=False)  # warm-up
    began = time.perf_counter()
    predictor.classify(texts, targets=[], evidence=False)
    seconds = time.perf_counter() - began
    dev_texts, gold, names, _ = dev_set(held_out_from or version_dir)
    f1 = None
    if dev_texts:
        results = predictor.classify(dev_texts, targets=[], evidence=False)
        f1 = macro_f1(names, gold, np.array([[int(f.predicted) for f in r.frames] for r in results]))
    return {"seconds": seconds, "dev_macro_f1": f1, "backend": predictor.backend}


def worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    texts = json.loads(Path(args.corpus).read_text(encoding="utf-8"))[: args.limit]
    if args.worker.startswith("pipeline"):
        result = run_pipeline(args.worker, args.version_dir, texts, args.threads)
    elif args.worker.startswith(STUDENT):
        backend = args.worker[len(STUDENT) :]
        result = run_framelens(backend, args.student, texts, args.threads, args.batch_size, args.version_dir)
    else:
        result = run_framelens(args.worker, args.version_dir, texts, args.threads, args.batch_size)
    result |= {"n": len(texts), "passages_per_s": len(texts) / result["seconds"], "peak_rss_mb": peak_rss_mb()}
    print("RESULT " + json.dumps(result), flush=True)


def prepare(version_dir: Path, threads: int, recheck: bool) -> tuple[str, dict[str, Any]]:
    """Export and parity-check before any timing (both cached beside the version); returns auto's pick."""
    from framelens.model.backends import read_parity, recorded_choice
    from framelens.training.backends import check_parity

    began = time.perf_counter()
    record = read_parity(version_dir)
    if recheck or record is None or record.get("threads") != threads or record.get("device") != "cpu":
        record = check_parity(version_dir, threads=threads, device="cpu")
        print(f"exported and parity-checked in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return recorded_choice(version_dir, "cpu"), record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    home = Path(os.environ.get("FRAMELENS_HOME", "models"))
    parser.add_argument("--version-dir", type=Path, default=None, help="a model version folder (default: active)")
    parser.add_argument("--limit", type=int, default=600, help="passages timed per system (default 600)")
    parser.add_argument("--threads", type=int, default=None, help="compute threads (default: every core)")
    parser.add_argument("--batch-size", type=int, default=0, help="framelens windows per pass (default: its own)")
    parser.add_argument("--tokens", type=int, default=128, help="passage length in word pieces (at most)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated subset of {SYSTEMS}")
    parser.add_argument("--articles", type=Path, default=None, help="narrative-frames-2023 articles.jsonl")
    parser.add_argument("--recheck", action="store_true", help="run the parity check again (else: as recorded)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--student",
        type=Path,
        default=None,
        help="a smaller version trained from this one (encoder_layers): add student-torch, student-onnx-fp32 or "
        "student-onnx-int8 to --systems to time it on the same passages, F1 on this version's held-out rows",
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.version_dir = (args.version_dir or active_version(home)).resolve()
    from framelens.model.backends import available_cores

    args.threads = args.threads or available_cores()
    if args.worker:
        worker(args)
        return
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    students = {STUDENT + s for s in SYSTEMS if not s.startswith("pipeline")} if args.student else set()
    unknown = set(systems) - set(SYSTEMS) - students
    if unknown:
        raise SystemExit(f"unknown system(s) {sorted(unknown)}; choose from {SYSTEMS} (and {STUDENT}… with --student)")
    from transformers import AutoTokenizer

    from bench.corpus import ARTICLES, cut_passages, read_articles

    tokenizer = AutoTokenizer.from_pretrained(str(args.version_dir / "tokenizer"))
    articles = read_articles(args.articles or ARTICLES)
    passages = cut_passages(articles, tokenizer, args.tokens, max(MIN_CORPUS, args.limit))
    timed = passages[: args.limit]
    mean_tokens = sum(len(ids) for ids in tokenizer(timed)["input_ids"]) / len(timed)
    auto, record = prepare(args.version_dir, args.threads, args.recheck)
    if args.student:
        args.student = args.student.resolve()
        prepare(args.student, args.threads, args.recheck)
    print(
        f"version {args.version_dir.name}; corpus {len(passages)} passages cut from the articles, "
        f"{len(timed)} timed per system (mean {mean_tokens:.0f} tokens with [CLS]/[SEP]); "
        f"{args.threads} threads; F1 on {record.get('held_out', {}).get('n', 0)} held-out passages (dev + test)",
        flush=True,
    )
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.json"
        corpus.write_text(json.dumps(timed), encoding="utf-8")
        for name in systems:
            command = [sys.executable, __file__, "--worker", name, "--corpus", str(corpus)]
            command += ["--version-dir", str(args.version_dir), "--limit", str(args.limit)]
            command += ["--threads", str(args.threads), "--batch-size", str(args.batch_size)]
            command += ["--student", str(args.student)] if args.student else []
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
            if done.returncode or not lines:
                print(f"{name} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            rows[name] = json.loads(lines[-1][len("RESULT ") :])
            print(f"  {name:<13} {rows[name]['passages_per_s']:8.1f} passages/s", flush=True)
    print_table(rows, auto, record)
    if args.json:
        args.json.write_text(json.dumps({"systems": rows, "auto": auto, "parity": record}, indent=2) + "\n")


def print_table(rows: dict[str, dict[str, Any]], auto: str, record: dict[str, Any]) -> None:
    base = rows.get("pipeline", {}).get("passages_per_s")
    b32 = rows.get("pipeline-b32", {}).get("passages_per_s")
    reference = rows.get("torch", {}).get("dev_macro_f1")
    print(
        f"\n{'system':<17} {'passages/s':>10} {'x pipeline':>10} {'x b32':>6} {'peak RSS MB':>11} {'F1':>7} "
        f"{'ΔF1 torch':>9}"
    )
    for name, row in rows.items():
        speed = row["passages_per_s"]
        ratio = f"{speed / base:.2f}" if base else "-"
        ratio_b32 = f"{speed / b32:.2f}" if b32 else "-"
        f1 = row.get("dev_macro_f1")
        f1_text = f"{f1:.4f}" if f1 is not None else "-"
        delta = f"{f1 - reference:+.4f}" if f1 is not None and reference is not None else "-"
        print(
            f"{name:<17} {speed:>10.1f} {ratio:>10} {ratio_b32:>6} {row['peak_rss_mb']:>11.0f} {f1_text:>7} {delta:>9}"
        )
    parity = record.get("backends", {})
    checks = ", ".join(
        f"{n}: {'pass' if e.get('passed') else 'fail'} (max score diff {e.get('max_score_diff', float('nan')):.2g})"
        for n, e in parity.items()
        if n != "torch"
    )
    print(f"\nparity: {checks}\n'auto' picks: {auto}")


if __name__ == "__main__":
    main()
