"""Passages per second of framelens on a GPU: bf16 encoder, length-sorted batches, tokenization overlapped.

    python bench/gpu_throughput.py                                # active version, 20,000 passages, CUDA
    python bench/gpu_throughput.py --encoder all-MiniLM-L6-v2     # no trained version needed (random heads)
    python bench/gpu_throughput.py --device cpu --count 64        # smoke check anywhere
    python bench/gpu_throughput.py --encoder all-MiniLM-L6-v2 --device cpu --count 4000 --host-only   # host rows

Passages of about 170 word pieces are cut from the Narrative Frames articles. Rows, each timed after a warm-up:
  framelens     Predictor.classify(frames only, no evidence) as it runs by default (no prefetch).
  prefetch      the same with prefetch: documents and tokens for the next batch are prepared on CPU threads
                while the GPU runs the current one (what that buys, or costs).
  model only    the forward pass alone on pre-tokenized, length-sorted batches: the ceiling for this GPU.
  host only     classify with a network that answers instantly: the ceiling of the CPU side (documents,
                tokenization, formatting) in this process. framelens runs at about the lower of the two.
  host, 2 tok   the same, with windows tokenized again from their text (the path before tokenize-once).
  N workers     with --host-workers N[,M…]: a HostPool of N worker processes prepares and finishes the passages
                (sentences, windows, token ids, aggregation, results) while this process runs the network; with
                --host-only the network answers instantly, so the row is the host side's speed on N processes.
                Each pooled run's predictions are checked against the in-process ones (labels equal, scores to
                2e-6) before its speed is printed.
Speed does not depend on training, so --encoder measures an untrained network of the same shape.

    python bench/gpu_throughput.py --device cpu --count 3000 --host-only --host-workers 1,2   # this 2-core CPU
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")  # bulk tokenization may use every core here

SCHEME = Path(__file__).resolve().parents[1] / "seeds" / "schemes" / "ukraine-war.json"


def predictor_for(args: argparse.Namespace) -> Any:
    from framelens.model.artifact import Artifact, NetworkSpec, build_network
    from framelens.model.calibration import Calibration
    from framelens.model.encoders import resolve_encoder
    from framelens.model.predictor import Predictor
    from framelens.model.scheme import Scheme

    if args.encoder:
        scheme = Scheme.load(SCHEME)
        spec = NetworkSpec(args.encoder, max_length=256)
        net, tokenizer = build_network(resolve_encoder(args.encoder), scheme, spec)
        artifact = Artifact(net, tokenizer, scheme, spec, Calibration(), {})
        return Predictor(artifact, version=f"untrained {args.encoder}", device=args.device)
    from bench.backends import active_version

    args.version_dir = args.version_dir or active_version(Path(os.environ.get("FRAMELENS_HOME", "models")))
    return Predictor.load(args.version_dir, backend=args.backend, device=args.device)


def timed(run: Any, texts: list[str]) -> float:
    import torch

    run(texts[: min(len(texts), 512)])  # warm-up: kernels, allocator, autotuning
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    began = time.perf_counter()
    run(texts)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return len(texts) / (time.perf_counter() - began)


def model_only(predictor: Any, texts: list[str]) -> float:
    """Forward passes alone, on batches tokenized beforehand (the GPU's own limit for this model)."""
    import torch

    from framelens.model.encoding import WindowRef, encode
    from framelens.model.inference import make_documents

    a = predictor.artifact
    docs = make_documents(texts, a.tokenizer, a.spec, with_stance=False)
    refs = sorted(
        (WindowRef(d, w) for d, doc in enumerate(docs) for w in range(len(doc.windows))),
        key=lambda r: len(docs[r.doc].window_text(docs[r.doc].windows[r.window])),
    )
    size = predictor.batch_size
    batches = [
        encode(a.tokenizer, docs, refs[i : i + size], a.spec.max_length, None, False) for i in range(0, len(refs), size)
    ]
    device = predictor.net.device
    moved = [{k: v.to(device) for k, v in b.tensors.items()} for b in batches]

    def run(_: list[str]) -> None:
        with torch.inference_mode():
            for batch in moved:
                predictor.net.frames(batch)

    return timed(run, texts)


class InstantNet:
    """A scoring network that costs nothing: what is left is the host's share of the work."""

    def __init__(self, n_frames: int, n_stance: int) -> None:
        self.n_frames, self.n_stance = n_frames, n_stance

    def _out(self, batch: dict[str, Any], labels: int) -> Any:
        import torch

        from framelens.model.network import HeadOutput

        rows, tokens = batch["input_ids"].shape
        return HeadOutput(torch.zeros(rows, max(labels, 1)), torch.zeros(rows, tokens, max(labels, 1)))

    def frames(self, batch: dict[str, Any]) -> Any:
        return self._out(batch, self.n_frames)

    def stance(self, batch: dict[str, Any]) -> Any:
        return self._out(batch, self.n_stance)

    def head_bias(self, head: str) -> Any:
        import numpy as np

        return np.zeros(max(self.n_frames if head == "frames" else self.n_stance, 1), dtype=np.float32)


def pooled_rows(args: argparse.Namespace, predictor: Any, texts: list[str], instant: bool) -> dict[str, float]:
    """HostPool rows: passages/s with N worker processes, each run checked against the in-process predictions."""
    import tempfile

    import numpy as np

    from framelens.model.artifact import save_artifact
    from framelens.model.host_pool import HostPool

    def flat(predictions: list[Any]) -> Any:
        return np.asarray([f.score for p in predictions for f in p.frames])

    reference = predictor.classify(texts, targets=[], evidence=False)
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        version_dir = args.version_dir
        if args.encoder:  # workers load tokenizer, scheme and calibration from a version folder
            version_dir = Path(tmp) / "version"
            save_artifact(predictor.artifact, version_dir)
        for n in [int(x) for x in args.host_workers.split(",") if x.strip()]:
            with HostPool(version_dir, predictor.net, n, predictor.batch_size, predictor.backend) as pool:
                pool.classify(texts[: n * 16], part_size=16, targets=[], evidence=False)  # workers started, warm
                began = time.perf_counter()
                pooled = pool.classify(texts, part_size=args.part_size, targets=[], evidence=False)
                speed = len(texts) / (time.perf_counter() - began)
            same = [p.predicted_frames for p in pooled] == [p.predicted_frames for p in reference]
            close = bool(np.allclose(flat(pooled), flat(reference), atol=2e-6, rtol=0))
            if not (same and close):
                raise SystemExit(f"{n} host workers gave other predictions than one process: a bug")
            rows[f"{'host, ' if instant else ''}{n} workers"] = speed
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version-dir", type=Path, default=None, help="a model version (default: the active one)")
    parser.add_argument("--encoder", default=None, help="measure an untrained network on this encoder instead")
    parser.add_argument("--device", default=None, help="cuda (default when present) or cpu")
    parser.add_argument("--count", type=int, default=20000, help="passages (default 20,000)")
    parser.add_argument("--tokens", type=int, default=190, help="passage budget in word pieces (mean ~170)")
    parser.add_argument("--batch-size", type=int, default=None, help="windows per forward pass (GPU default 256)")
    parser.add_argument("--articles", type=Path, default=None, help="narrative-frames-2023 articles.jsonl")
    parser.add_argument("--host-only", action="store_true", help="only the host rows (quick on a CPU)")
    parser.add_argument("--backend", default="torch", help="a trained version's backend (default torch)")
    parser.add_argument("--host-workers", default="", help="comma-separated worker counts for HostPool rows")
    parser.add_argument("--part-size", type=int, default=128, help="passages per HostPool task (default 128)")
    args = parser.parse_args()

    import torch

    from bench.corpus import ARTICLES, cut_passages, read_articles

    predictor = predictor_for(args)
    if args.batch_size:
        predictor.batch_size = args.batch_size
    a = predictor.artifact
    texts = cut_passages(read_articles(args.articles or ARTICLES), a.tokenizer, args.tokens, args.count)
    mean_tokens = sum(len(ids) for ids in a.tokenizer(texts[:2000])["input_ids"]) / min(len(texts), 2000)
    name = torch.cuda.get_device_name() if predictor.device == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(
        f"{predictor.version} on {name}; {len(texts)} passages, mean {mean_tokens:.0f} tokens; "
        f"batch {predictor.batch_size}, bf16 {getattr(predictor.net, 'bf16', False)}",
        flush=True,
    )

    def classify(chunk: list[str]) -> None:
        predictor.classify(chunk, targets=[], evidence=False)

    rows = {}
    if not args.host_only:
        predictor.prefetch = False
        rows["framelens"] = timed(classify, texts)
        predictor.prefetch = True
        rows["prefetch"] = timed(classify, texts)
        predictor.prefetch = False
        rows["model only"] = model_only(predictor, texts)
    net, predictor.net = predictor.net, InstantNet(predictor.net.n_frames, predictor.net.n_stance)
    rows["host only"] = timed(classify, texts)

    from framelens.model import encoding

    joins, encoding._joins_exactly = encoding._joins_exactly, lambda tokenizer: False
    rows["host, 2 tok"] = timed(classify, texts)  # the old path: each window tokenized again from its text
    encoding._joins_exactly = joins
    if args.host_workers:  # the network still answers instantly here: host-side rows
        rows |= pooled_rows(args, predictor, texts, instant=True)
    predictor.net = net
    if args.host_workers and not args.host_only:
        rows |= pooled_rows(args, predictor, texts, instant=False)
    print(f"\n{'':<12} {'passages/s':>11}")
    for label, speed in rows.items():
        print(f"{label:<12} {speed:>11,.0f}")
    if predictor.device == "cuda":
        print(f"\npeak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB; target >= 10,000 passages/s")


if __name__ == "__main__":
    main()
