"""Benchmark passages cut from the Narrative Frames articles: runs of whole sentences of about N tokens.

The articles are read where they lie (never copied into the repository). A passage starts at every sentence
and takes sentences while it stays within the token budget, so ~2,700 non-overlapping 128-token passages
become ~12,000 overlapping ones; `cut_passages` returns an evenly spaced, deterministic subset of the size asked.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from framelens.model.sentences import split_sentences

ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "narrative-frames-2023" / "articles.jsonl"


def read_articles(path: Path = ARTICLES) -> list[str]:
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass --articles with the narrative-frames-2023 articles.jsonl")
    return [str(json.loads(line)["text"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cut_passages(texts: list[str], tokenizer: Any, tokens: int = 128, count: int = 5000, seed: int = 0) -> list[str]:
    """`count` passages of at most `tokens` word pieces (at least half of it), each a run of whole sentences."""
    candidates: list[str] = []
    for text in texts:
        sentences = split_sentences(text)
        if not sentences:
            continue
        lengths = [len(ids) for ids in tokenizer([s.text for s in sentences], add_special_tokens=False)["input_ids"]]
        for first in range(len(sentences)):
            used, last = 0, first
            while last < len(sentences) and used + lengths[last] <= tokens:
                used += lengths[last]
                last += 1
            if used >= tokens // 2:
                candidates.append(text[sentences[first].start : sentences[last - 1].end])
    if not candidates:
        raise SystemExit("no passages could be cut from the articles")
    step = len(candidates) / count
    chosen = [candidates[int(i * step) % len(candidates)] for i in range(count)]
    random.Random(seed).shuffle(chosen)  # timing order must not follow article order (or length)
    return chosen
