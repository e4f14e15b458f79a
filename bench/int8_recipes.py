"""Int8 recipes side by side on one version, same passages, same run: ONNX Runtime's per-tensor dynamic int8 (the
shipped recipe, scored one window per call so that a window's scores never depend on its batch mates) against
per-row int8 (bench/int8_rows.py: batch-invariant by construction, so windows may share a call).

    python bench/int8_recipes.py --version-dir runs/home-default/versions/v…   [--count 240] [--threads 2]

Prints passages/s per recipe at batch sizes 1, 8 and 32 (length-sorted passages of <= 128 word pieces, the
tokenizer's time included) and each recipe's largest |frames logit - fp32 logit|. Measured 2026-12-02 on the
default model, 2 shared CPU cores, one run: fp32 36.6 / 38.2 / 32.4; per-tensor int8 50.8 / 49.4 / 45.5 (58.0 at
batch 1 in a rerun); per-row int8 on the unfused graph 31.7-38.6 / 39.5-43.0 / 34.1-38.6; per-row on the fused
graph (Attention left fp32) 47.7 / 42.9 / 34.1. Batching does not pay on this CPU, and the per-row graph's extra
element-wise passes (Abs, ReduceMax, Div, Round, Cast, two Muls per MatMul) cost more than the fused QAttention
and DynamicQuantizeMatMul kernels they replace, so the shipped recipe stays per-tensor, one window per call."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version-dir", type=Path, required=True)
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import onnx
    import onnxruntime as ort
    from transformers import AutoTokenizer

    from bench.corpus import ARTICLES, cut_passages, read_articles
    from bench.int8_rows import quantize_rows
    from framelens.model.artifact import load_artifact
    from framelens.model.onnx_backend import FILES, ONNX_DIR, ensure_exported, export_fp32, kept_in_fp32

    ensure_exported(args.version_dir)
    folder = args.version_dir / ONNX_DIR
    tokenizer = AutoTokenizer.from_pretrained(str(args.version_dir / "tokenizer"))
    texts = sorted(cut_passages(read_articles(ARTICLES), tokenizer, 128, 5000)[: args.count], key=len)
    with tempfile.TemporaryDirectory() as tmp:
        plain, rows, fused_rows = Path(tmp) / "plain.onnx", Path(tmp) / "rows.onnx", Path(tmp) / "fused-rows.onnx"
        artifact = load_artifact(args.version_dir)
        export_fp32(artifact.net, artifact.tokenizer, plain, fuse=False)
        quantize_rows(plain, rows, set(kept_in_fp32(onnx.load(str(plain)).graph)))
        fp32 = folder / FILES["onnx-fp32"]
        quantize_rows(fp32, fused_rows, set(kept_in_fp32(onnx.load(str(fp32)).graph)))
        recipes = {"fp32": fp32, "per-tensor int8": folder / FILES["onnx-int8"], "per-row int8": rows}
        recipes["per-row int8, fused attention"] = fused_rows
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
        reference = None
        print(f"{'recipe':<32} {'b1':>7} {'b8':>7} {'b32':>7} {'max |Δ logit|':>14}")
        for name, path in recipes.items():
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            inputs = [i.name for i in session.get_inputs()]

            def run(batch: int, session: ort.InferenceSession = session, inputs: list[str] = inputs) -> tuple:
                began, out = time.perf_counter(), []
                for k in range(0, len(texts), batch):
                    enc = tokenizer(texts[k : k + batch], padding=True, return_tensors="np")
                    out.append(session.run(["frames_logits"], {n: enc[n].astype(np.int64) for n in inputs})[0])
                return len(texts) / (time.perf_counter() - began), np.concatenate(out)

            run(8)
            speeds = {b: run(b) for b in (1, 8, 32)}
            logits = speeds[1][1]
            reference = logits if reference is None else reference
            diff = float(np.abs(logits - reference).max())
            print(f"{name:<32} " + " ".join(f"{speeds[b][0]:>7.1f}" for b in (1, 8, 32)) + f" {diff:>14.4f}")


if __name__ == "__main__":
    main()
