"""Raw scores for many documents at once: length-sorted batches of windows, aggregated per document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from model.artifact import NetworkSpec
from model.encoding import WindowRef, clip_target, encode, sentence_logits
from model.network import FrameStanceNet
from model.windows import Document, build_document


@dataclass
class DocumentScores:
    frame_logits: np.ndarray  # [frames], aggregated over windows
    sentence_frame_logits: np.ndarray  # [sentences, frames], best window per sentence (NaN: not read)
    stance_logits: dict[str, np.ndarray] = field(default_factory=dict)  # target -> [labels]
    sentence_stance_logits: dict[str, np.ndarray] = field(default_factory=dict)
    n_windows: int = 0


def make_documents(texts: list[str], tokenizer: Any, spec: NetworkSpec, with_stance: bool) -> list[Document]:
    budget = spec.max_length - 2 - (spec.target_reserve + 1 if with_stance else 0)
    return [build_document(t, tokenizer, budget, spec.overlap_tokens) for t in texts]


def _batches(refs: list[WindowRef], docs: list[Document], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(refs)), key=lambda i: _length(docs, refs[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _length(docs: list[Document], ref: WindowRef) -> int:
    w = docs[ref.doc].windows[ref.window]
    return w.end - w.start


@torch.inference_mode()
def score_documents(
    net: FrameStanceNet,
    tokenizer: Any,
    spec: NetworkSpec,
    docs: list[Document],
    targets: list[list[str]],
    batch_size: int = 32,
    evidence: bool = True,
) -> list[DocumentScores]:
    """Frame and stance logits for each document; `targets[i]` are the stance targets for document i."""
    n_frames, n_stance = net.n_frames, net.n_stance
    refs = [WindowRef(d, w) for d, doc in enumerate(docs) for w in range(len(doc.windows))]
    results = [
        DocumentScores(
            frame_logits=np.full(max(n_frames, 1), -np.inf),
            sentence_frame_logits=np.full((len(doc.sentences), max(n_frames, 1)), np.nan),
            n_windows=len(doc.windows),
        )
        for doc in docs
    ]
    if n_frames:
        window_logits: list[list[np.ndarray]] = [[] for _ in docs]
        for rows in _batches(refs, docs, batch_size):
            batch_refs = [refs[i] for i in rows]
            enc = encode(tokenizer, docs, batch_refs, spec.max_length)
            out = net.frames(enc.tensors)
            logits = out.logits.float().numpy()
            token_logits = out.token_logits.float().numpy() if evidence else None
            bias = net.frames_head.bias.detach().float().numpy()
            for row, ref in enumerate(batch_refs):
                window_logits[ref.doc].append(logits[row])
                if token_logits is not None:
                    sent = sentence_logits(token_logits[row], enc.token_sentences[row], len(docs[ref.doc].sentences))
                    best = results[ref.doc].sentence_frame_logits
                    np.fmax(best, sent + bias, out=best)
        for d, logs in enumerate(window_logits):
            if logs:
                stacked = np.stack(logs)
                agg = stacked.max(0) if spec.aggregation == "max" else stacked.mean(0)
                results[d].frame_logits = agg
    if n_stance:
        _score_stance(net, tokenizer, spec, docs, targets, refs, results, batch_size, evidence)
    return results


def _score_stance(
    net: FrameStanceNet,
    tokenizer: Any,
    spec: NetworkSpec,
    docs: list[Document],
    targets: list[list[str]],
    refs: list[WindowRef],
    results: list[DocumentScores],
    batch_size: int,
    evidence: bool,
) -> None:
    pairs = [(ref, t) for ref in refs for t in targets[ref.doc]]
    clipped = {t: clip_target(tokenizer, t, spec.target_reserve) for _, t in pairs}
    sums: dict[tuple[int, str], list[np.ndarray]] = {}
    bias = net.stance_head.bias.detach().float().numpy()
    order = sorted(range(len(pairs)), key=lambda i: _length(docs, pairs[i][0]))
    for first in range(0, len(order), batch_size):
        chunk = [pairs[i] for i in order[first : first + batch_size]]
        enc = encode(tokenizer, docs, [r for r, _ in chunk], spec.max_length, [clipped[t] for _, t in chunk])
        out = net.stance(enc.tensors)
        logits = out.logits.float().numpy()
        token_logits = out.token_logits.float().numpy() if evidence else None
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
