"""Raw scores for many documents at once: length-sorted batches of windows, aggregated per document."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import torch

from framelens.model.artifact import NetworkSpec
from framelens.model.encoding import EncodedBatch, WindowRef, clip_target, encode, sentence_logits
from framelens.model.network import HeadOutput
from framelens.model.windows import Document, build_documents

T = TypeVar("T")


class ScoringNet(Protocol):
    """What scoring needs from a network: both heads' logits and token logits, and each head's bias.

    `FrameStanceNet` (torch, as trained), `TorchScorer` (torch on a device) and `OnnxNet` (ONNX Runtime) are one.
    Outputs may still live on a device; scoring reads them back one batch later."""

    @property
    def n_frames(self) -> int: ...

    @property
    def n_stance(self) -> int: ...

    def frames(self, batch: dict[str, torch.Tensor]) -> HeadOutput: ...

    def stance(self, batch: dict[str, torch.Tensor]) -> HeadOutput: ...

    def head_bias(self, head: str) -> np.ndarray: ...


@dataclass
class DocumentScores:
    frame_logits: np.ndarray  # [frames], aggregated over windows
    sentence_frame_logits: np.ndarray  # [sentences, frames], best window per sentence (NaN: not read)
    stance_logits: dict[str, np.ndarray] = field(default_factory=dict)  # target -> [labels]
    sentence_stance_logits: dict[str, np.ndarray] = field(default_factory=dict)
    n_windows: int = 0


def make_documents(texts: list[str], tokenizer: Any, spec: NetworkSpec, with_stance: bool) -> list[Document]:
    """Windows sized for the model; room for a target is kept only where stance reads (target, text) pairs."""
    paired = with_stance and spec.paired_stance
    budget = spec.max_length - 2 - (spec.target_reserve + 1 if paired else 0)
    return build_documents(texts, tokenizer, budget, spec.overlap_tokens, spec.paragraph_windows)


def _length(docs: list[Document], ref: WindowRef) -> int:
    w = docs[ref.doc].windows[ref.window]
    return w.end - w.start


def _prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, produced `depth` ahead on a background thread. Fast tokenizers release the GIL, so the next
    batch is tokenized while the current one runs (and a GPU never waits for text)."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put("done", None)
        except BaseException as exc:  # handed to the consumer, which raises it
            put("error", exc)

    worker = threading.Thread(target=produce, name="framelens-tokenize", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def _run(
    head: Callable[[dict[str, torch.Tensor]], HeadOutput],
    batches: Iterator[tuple[list[T], EncodedBatch]],
    evidence: bool,
) -> Iterator[tuple[list[T], EncodedBatch, np.ndarray, np.ndarray | None]]:
    """Apply `head` to each batch with one batch in flight: batch k+1 is launched before batch k is read back,
    so an asynchronous device keeps computing while Python handles the previous results."""
    pending: tuple[list[T], EncodedBatch, HeadOutput] | None = None
    for items, enc in batches:
        out = head(enc.tensors)
        if pending is not None:
            yield _read_back(pending, evidence)
        pending = (items, enc, out)
    if pending is not None:
        yield _read_back(pending, evidence)


def _read_back(
    pending: tuple[list[T], EncodedBatch, HeadOutput], evidence: bool
) -> tuple[list[T], EncodedBatch, np.ndarray, np.ndarray | None]:
    items, enc, out = pending
    logits = out.logits.float().cpu().numpy()
    token_logits = out.token_logits.float().cpu().numpy() if evidence else None
    return items, enc, logits, token_logits


@torch.inference_mode()
def score_documents(
    net: ScoringNet,
    tokenizer: Any,
    spec: NetworkSpec,
    docs: list[Document],
    targets: list[list[str]],
    batch_size: int = 32,
    evidence: bool = True,
    prefetch: bool = False,
) -> list[DocumentScores]:
    """Frame and stance logits for each document; `targets[i]` are the stance targets for document i.
    `prefetch` tokenizes the next batches on a background thread; the scores are the same either way."""
    n_frames, n_stance = net.n_frames, net.n_stance
    fixed = [t for t in spec.stance_targets if n_stance]
    n_plain = n_frames + len(fixed) * n_stance
    refs = [WindowRef(d, w) for d, doc in enumerate(docs) for w in range(len(doc.windows))]
    results = [
        DocumentScores(
            frame_logits=np.full(max(n_frames, 1), -np.inf),
            sentence_frame_logits=np.full((len(doc.sentences), max(n_frames, 1)), np.nan),
            n_windows=len(doc.windows),
        )
        for doc in docs
    ]
    if n_plain:
        order = sorted(range(len(refs)), key=lambda i: _length(docs, refs[i]))
        chunks = [[refs[i] for i in order[k : k + batch_size]] for k in range(0, len(order), batch_size)]
        batches = ((chunk, encode(tokenizer, docs, chunk, spec.max_length, None, evidence)) for chunk in chunks)
        window_logits: list[list[np.ndarray]] = [[] for _ in docs]
        sentence_plain = [np.full((len(doc.sentences), n_plain), np.nan) for doc in docs]
        bias = net.head_bias("frames")
        for batch_refs, enc, logits, token_logits in _run(
            net.frames, _prefetched(batches) if prefetch else batches, evidence
        ):
            for row, ref in enumerate(batch_refs):
                window_logits[ref.doc].append(logits[row, :n_plain])
                if token_logits is not None:
                    n_sent = len(docs[ref.doc].sentences)
                    sent = sentence_logits(token_logits[row, :, :n_plain], enc.token_sentences[row], n_sent) + bias
                    _keep_sentence_scores(sentence_plain[ref.doc], sent, n_frames)
        for d, logs in enumerate(window_logits):
            if not logs:
                continue
            stacked = np.stack(logs)
            if n_frames:
                frames = stacked[:, :n_frames]
                results[d].frame_logits = frames.max(0) if spec.aggregation == "max" else frames.mean(0)
                results[d].sentence_frame_logits = sentence_plain[d][:, :n_frames]
            for target in targets[d]:  # in the order asked
                if target not in fixed:
                    continue
                k = fixed.index(target)
                cols = slice(n_frames + k * n_stance, n_frames + (k + 1) * n_stance)
                results[d].stance_logits[target] = stacked[:, cols].mean(0)  # as paired stance: the mean
                if evidence:
                    results[d].sentence_stance_logits[target] = sentence_plain[d][:, cols]
    paired_targets = [[t for t in ts if t not in fixed] for ts in targets]
    if n_stance and any(paired_targets):
        if not spec.paired_stance:
            unknown = sorted({t for ts in paired_targets for t in ts})
            raise ValueError(f"this network reads stance toward {list(fixed)} only, not {unknown}")
        _score_stance(net, tokenizer, spec, docs, paired_targets, refs, results, batch_size, evidence, prefetch)
    return results


def _keep_sentence_scores(best: np.ndarray, sent: np.ndarray, n_frames: int) -> None:
    """A sentence read by several windows keeps its highest frame logits (the window that saw it best) and its
    first window's stance logits, as paired stance does."""
    np.fmax(best[:, :n_frames], sent[:, :n_frames], out=best[:, :n_frames])
    unset = np.isnan(best[:, n_frames:])
    best[:, n_frames:][unset] = sent[:, n_frames:][unset]


def _score_stance(
    net: ScoringNet,
    tokenizer: Any,
    spec: NetworkSpec,
    docs: list[Document],
    targets: list[list[str]],
    refs: list[WindowRef],
    results: list[DocumentScores],
    batch_size: int,
    evidence: bool,
    prefetch: bool,
) -> None:
    pairs = [(ref, t) for ref in refs for t in targets[ref.doc]]
    clipped = {t: clip_target(tokenizer, t, spec.target_reserve) for _, t in pairs}
    sums: dict[tuple[int, str], list[np.ndarray]] = {}
    bias = net.head_bias("stance")
    order = sorted(range(len(pairs)), key=lambda i: _length(docs, pairs[i][0]))
    chunks = [[pairs[i] for i in order[k : k + batch_size]] for k in range(0, len(order), batch_size)]
    batches = (
        (c, encode(tokenizer, docs, [r for r, _ in c], spec.max_length, [clipped[t] for _, t in c], evidence))
        for c in chunks
    )
    for chunk, enc, logits, token_logits in _run(net.stance, _prefetched(batches) if prefetch else batches, evidence):
        for row, (ref, target) in enumerate(chunk):
            sums.setdefault((ref.doc, target), []).append(logits[row])
            if token_logits is not None:
                n_sent = len(docs[ref.doc].sentences)
                sent = sentence_logits(token_logits[row], enc.token_sentences[row], n_sent) + bias
                previous = results[ref.doc].sentence_stance_logits.get(target)
                results[ref.doc].sentence_stance_logits[target] = (
                    sent if previous is None else np.where(np.isnan(previous), sent, previous)
                )
    for (d, target), logs in sums.items():
        # Stance averages its windows: a stance is the passage's overall position, not its loudest part.
        results[d].stance_logits[target] = np.stack(logs).mean(0)
