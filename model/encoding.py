"""Windows -> tensors, and tokens -> sentences. Training and prediction both go through here."""

from __future__ import annotations

import weakref
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from framelens.model.windows import Document, Window, build_documents


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

    Without targets, windows are assembled from the word pieces their documents kept (`Document.token_ids`)
    when the tokenizer gives the same ids that way (checked once per tokenizer): the text is tokenized once, not
    twice. `with_sentences=False` skips the token -> sentence map, which only evidence needs."""
    if refs and targets is None and all(docs[r.doc].token_ids is not None for r in refs) and _joins_exactly(tokenizer):
        return _encode_joined(tokenizer, docs, refs, max_length, with_sentences)
    return _encode_text(tokenizer, docs, refs, max_length, targets, with_sentences)


def _encode_joined(
    tokenizer: Any, docs: list[Document], refs: list[WindowRef], max_length: int, with_sentences: bool
) -> EncodedBatch:
    """[CLS] window pieces [SEP], right-padded, cut like `truncation=True` would: what the tokenizer returns."""
    pieces, owners = [], []
    for ref in refs:
        doc = docs[ref.doc]
        assert doc.token_ids is not None and doc.token_starts is not None
        ids = doc.windows[ref.window].sentence_ids
        begin, end = int(doc.token_starts[ids[0]]), int(doc.token_starts[ids[-1] + 1])
        pieces.append(doc.token_ids[begin : min(end, begin + max_length - 2)])
        if with_sentences:
            counts = np.diff(doc.token_starts[ids[0] : ids[-1] + 2])
            owners.append(np.repeat(np.asarray(ids, dtype=np.int64), counts)[: len(pieces[-1])])
    width = max(len(p) for p in pieces) + 2
    input_ids = np.full((len(refs), width), tokenizer.pad_token_id, dtype=np.int64)
    mask = np.zeros((len(refs), width), dtype=np.int64)
    token_sentences = np.full((len(refs), width if with_sentences else 0), -1, dtype=np.int64)
    for row, piece in enumerate(pieces):
        n = len(piece)
        input_ids[row, 0], input_ids[row, 1 : n + 1], input_ids[row, n + 1] = (
            tokenizer.cls_token_id,
            piece,
            tokenizer.sep_token_id,
        )
        mask[row, : n + 2] = 1
        if with_sentences:
            token_sentences[row, 1 : n + 1] = owners[row]
    tensors = {"input_ids": torch.from_numpy(input_ids)}
    if "token_type_ids" in tokenizer.model_input_names:
        tensors["token_type_ids"] = torch.zeros_like(tensors["input_ids"])
    tensors["attention_mask"] = torch.from_numpy(mask)
    return EncodedBatch(tensors, token_sentences)


_PROBE = (
    'Kyiv, Feb. 24 — Explosions shook Kharkiv at 5:30 a.m. on Thursday. "We will not give up," said Mr. Zelensky '
    "(in Ukrainian). The U.S. pledged $2.5bn; NATO's chief—Jens Stoltenberg—called it 'historic'!\n\n"
    "Café owners in Odesa fled; prices rose 12.5% in March… Will the talks resume? Ceasefire talks stalled again."
)
_JOINS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _joins_exactly(tokenizer: Any) -> bool:
    """Whether windows assembled from per-sentence pieces equal the tokenizer's own output for this tokenizer
    (true of BERT-style WordPiece; a tokenizer that marks word starts, like byte-level BPE, falls back)."""
    if tokenizer not in _JOINS:
        docs = build_documents([_PROBE, "Short one. Ünïcödé text: ½ — ok?"], tokenizer, 64, 16)
        ok = all(d.token_ids is not None for d in docs) and getattr(tokenizer, "cls_token_id", None) is not None
        if ok:
            refs = [WindowRef(d, w) for d, doc in enumerate(docs) for w in range(len(doc.windows))]
            joined = _encode_joined(tokenizer, docs, refs, 512, True)
            text = _encode_text(tokenizer, docs, refs, 512, None, True)
            ok = set(joined.tensors) == set(text.tensors) and all(
                torch.equal(joined.tensors[k], text.tensors[k]) for k in text.tensors
            )
            ok = ok and np.array_equal(joined.token_sentences, text.token_sentences)
        _JOINS[tokenizer] = ok
    return _JOINS[tokenizer]


def _encode_text(
    tokenizer: Any,
    docs: list[Document],
    refs: list[WindowRef],
    max_length: int,
    targets: list[str] | None,
    with_sentences: bool,
) -> EncodedBatch:
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
