"""Windows -> tensors, and tokens -> sentences. Training and prediction both go through here."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from model.windows import Document, Window


@dataclass(frozen=True)
class WindowRef:
    doc: int
    window: int


@dataclass
class EncodedBatch:
    tensors: dict[str, torch.Tensor]
    # For each row, the sentence id each token belongs to (-1: special, padding or target token);
    # [rows, 0] when the caller asked for no sentence map (no evidence wanted).
    token_sentences: np.ndarray


def clip_target(tokenizer: Any, target: str, max_tokens: int) -> str:
    """Targets are short; a long one is cut at a token boundary so it never eats the passage's budget."""
    offsets = tokenizer(target, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= max_tokens:
        return target
    return target[: offsets[max_tokens - 1][1]]


def encode(
    tokenizer: Any,
    docs: list[Document],
    refs: list[WindowRef],
    max_length: int,
    targets: list[str] | None = None,
    with_sentences: bool = True,
) -> EncodedBatch:
    """Tokenize the windows in `refs` (paired with `targets` when given) with dynamic padding.

    `with_sentences=False` skips the token -> sentence map (a Python loop over every token), which only
    evidence needs."""
    texts = [docs[r.doc].window_text(docs[r.doc].windows[r.window]) for r in refs]
    if targets is None:
        enc = tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=max_length,
            return_offsets_mapping=with_sentences,
            return_tensors="pt",
        )
    else:
        enc = tokenizer(
            targets,
            texts,
            padding=True,
            truncation="only_second",
            max_length=max_length,
            return_offsets_mapping=with_sentences,
            return_tensors="pt",
        )
    if not with_sentences:
        return EncodedBatch(dict(enc.items()), np.zeros((len(refs), 0), dtype=np.int64))
    offsets = enc.pop("offset_mapping").numpy()
    token_sentences = np.full(offsets.shape[:2], -1, dtype=np.int64)
    passage_seq = 0 if targets is None else 1
    for row, ref in enumerate(refs):
        doc = docs[ref.doc]
        window: Window = doc.windows[ref.window]
        starts = [doc.sentences[i].start for i in window.sentence_ids]
        seq_ids = enc.sequence_ids(row)
        for col, seq in enumerate(seq_ids):
            if seq != passage_seq:
                continue
            begin, end = offsets[row, col]
            if end <= begin:
                continue
            pos = bisect_right(starts, window.start + int(begin)) - 1
            token_sentences[row, col] = window.sentence_ids[max(pos, 0)]
    return EncodedBatch({k: v for k, v in enc.items()}, token_sentences)


def sentence_logits(token_logits: np.ndarray, token_sentences: np.ndarray, n_sentences: int) -> np.ndarray:
    """Mean token logit per sentence for one row: [tokens, labels] -> [n_sentences, labels] (NaN if absent)."""
    labels = token_logits.shape[-1]
    sums = np.zeros((n_sentences, labels), dtype=np.float64)
    counts = np.zeros(n_sentences, dtype=np.float64)
    mask = token_sentences >= 0
    np.add.at(sums, token_sentences[mask], token_logits[mask])
    np.add.at(counts, token_sentences[mask], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]
