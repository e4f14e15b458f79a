"""Long texts -> overlapping windows cut at sentence boundaries, each within the encoder's token budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framelens.model.sentences import Sentence, split_sentences


@dataclass(frozen=True)
class Window:
    start: int  # character span of the window in the document text
    end: int
    sentence_ids: tuple[int, ...]


@dataclass(frozen=True)
class Document:
    text: str
    sentences: tuple[Sentence, ...]
    windows: tuple[Window, ...]
    # The word pieces of every sentence, concatenated, and where each sentence's begin ([n_sentences + 1]): kept
    # from the tokenizer call that placed the windows, so encoding a window need not tokenize it again. None when
    # a sentence had to be cut into pieces (its pieces re-tokenize differently) or the tokenizer is not a fast one.
    token_ids: np.ndarray | None = field(default=None, compare=False, repr=False)
    token_starts: np.ndarray | None = field(default=None, compare=False, repr=False)

    def window_text(self, window: Window) -> str:
        return self.text[window.start : window.end]


def _token_offsets(tokenizer: Any, texts: list[str]) -> list[list[tuple[int, int]]]:
    if not texts:
        return []
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    return [list(offsets) for offsets in encoded["offset_mapping"]]


def _token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]] | None:
    """Word pieces of each text, straight from the Rust tokenizer (no offsets, whose conversion to Python lists
    was most of the cost of building documents); None for a tokenizer without one."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or not hasattr(backend, "encode_batch_fast"):
        return None
    if not texts:
        return []
    backend.no_truncation()  # the state a tokenizer(..., add_special_tokens=False) call would set
    backend.no_padding()
    return [encoding.ids for encoding in backend.encode_batch_fast(texts, add_special_tokens=False)]


def _fit_sentences(
    sentences: list[Sentence], counts: list[int], long_offsets: dict[int, list[tuple[int, int]]], budget: int
) -> list[tuple[Sentence, int]]:
    """Pair each sentence with its token count, cutting any sentence longer than the budget into pieces
    (`long_offsets[i]`: the token offsets of sentence i, needed for those only)."""
    fitted: list[tuple[Sentence, int]] = []
    for i, (sentence, count) in enumerate(zip(sentences, counts, strict=True)):
        if count <= budget:
            fitted.append((sentence, count))
            continue
        token_offsets = long_offsets[i]
        for first in range(0, len(token_offsets), budget):
            piece = token_offsets[first : first + budget]
            start = sentence.start + piece[0][0]
            end = sentence.start + piece[-1][1]
            fitted.append((Sentence(start, end, sentence.text[piece[0][0] : piece[-1][1]]), len(piece)))
    return fitted


# With paragraph windows, a window closes at a paragraph break once it holds this many tokens (a one-line
# headline or dateline paragraph joins the next).
MIN_PARAGRAPH_WINDOW = 48


def build_documents(
    texts: list[str], tokenizer: Any, budget: int, overlap_tokens: int, paragraphs: bool = False
) -> list[Document]:
    """`build_document` for many texts, with one tokenizer call for all their sentences (the fast path).
    `paragraphs`: windows end at paragraph breaks (a newline between sentences) and do not overlap across them,
    so a window reads about one paragraph, as a model trained on passages saw them, and a frame one paragraph
    carries is not averaged away by its neighbours."""
    split = [split_sentences(text) for text in texts]
    flat = [s.text for sentences in split for s in sentences]
    ids = _token_ids(tokenizer, flat)
    counts = [len(x) for x in ids] if ids is not None else [len(o) for o in _token_offsets(tokenizer, flat)]
    docs, first = [], 0
    for text, sentences in zip(texts, split, strict=True):
        own = counts[first : first + len(sentences)]
        long = [i for i, n in enumerate(own) if n > budget]  # rare: only these need offsets, to be cut
        offsets = dict(zip(long, _token_offsets(tokenizer, [sentences[i].text for i in long]), strict=True))
        doc = _windowed(text, _fit_sentences(sentences, own, offsets, budget), budget, overlap_tokens, paragraphs)
        if ids is not None and not long:
            pieces = ids[first : first + len(sentences)]
            starts = np.zeros(len(own) + 1, dtype=np.int64)
            np.cumsum(own, out=starts[1:])
            joined = np.fromiter((t for piece in pieces for t in piece), dtype=np.int64, count=int(starts[-1]))
            doc = Document(doc.text, doc.sentences, doc.windows, joined, starts)
        first += len(sentences)
        docs.append(doc)
    return docs


def build_document(text: str, tokenizer: Any, budget: int, overlap_tokens: int, paragraphs: bool = False) -> Document:
    """Pack whole sentences into windows of at most `budget` tokens; consecutive windows share trailing
    sentences worth up to `overlap_tokens`, so no sentence loses its context at a cut."""
    return build_documents([text], tokenizer, budget, overlap_tokens, paragraphs)[0]


def _windowed(
    text: str, fitted: list[tuple[Sentence, int]], budget: int, overlap_tokens: int, paragraphs: bool = False
) -> Document:
    sentences = tuple(s for s, _ in fitted)
    counts = [n for _, n in fitted]
    if not sentences:
        return Document(text, (), ())
    gaps = [text[sentences[i - 1].end : sentences[i].start] if i else "" for i in range(len(sentences))]
    breaks = [paragraphs and "\n" in gap for gap in gaps]
    windows: list[Window] = []
    first = 0
    while True:
        last, used = first, counts[first]
        while last + 1 < len(sentences) and used + counts[last + 1] <= budget:
            if breaks[last + 1] and used >= MIN_PARAGRAPH_WINDOW:
                break
            last += 1
            used += counts[last]
        ids = tuple(range(first, last + 1))
        windows.append(Window(sentences[first].start, sentences[last].end, ids))
        if last == len(sentences) - 1:
            break
        if breaks[last + 1]:  # a new paragraph starts a new window: no overlap across paragraphs
            first = last + 1
            continue
        carried, back = 0, last + 1
        while back - 1 > first and carried + counts[back - 1] <= overlap_tokens:
            back -= 1
            carried += counts[back]
        first = back
    return Document(text, sentences, tuple(windows))
