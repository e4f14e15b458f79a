"""Windows assembled from the word pieces their document kept equal what the tokenizer returns for the window
text: ids, mask, token types and the token -> sentence map, for the tiny test tokenizer and the packaged MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from framelens.model.encoders import resolve_encoder
from framelens.model.encoding import WindowRef, _encode_joined, _encode_text, _joins_exactly, encode
from framelens.model.windows import build_documents
from tests.fixtures import tiny_rows

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "ukraine-war" / "passages.jsonl"


def seed_texts(n: int) -> list[str]:
    rows = [json.loads(line) for line in SEEDS.read_text(encoding="utf-8").splitlines()[:n]]
    articles = [" ".join(r["text"] for r in rows[k : k + 6]) for k in range(0, n, 6)]  # several windows each
    return [r["text"] for r in rows] + articles


def assert_same(tokenizer: object, texts: list[str], budget: int, batch: int = 8) -> int:
    docs = build_documents(texts, tokenizer, budget, 24)
    refs = [WindowRef(d, w) for d, doc in enumerate(docs) if doc.token_ids is not None for w in range(len(doc.windows))]
    for k in range(0, len(refs), batch):
        chunk = refs[k : k + batch]
        joined = _encode_joined(tokenizer, docs, chunk, budget + 2, True)
        text = _encode_text(tokenizer, docs, chunk, budget + 2, None, True)
        assert set(joined.tensors) == set(text.tensors)
        for key, value in text.tensors.items():
            assert torch.equal(joined.tensors[key], value), key
        np.testing.assert_array_equal(joined.token_sentences, text.token_sentences)
    return len(refs)


def test_tiny_tokenizer_windows_are_the_same_either_way(tiny_encoder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    texts = [r["text"] for r in tiny_rows()]
    texts += [" ".join(texts[k : k + 5]) for k in range(0, len(texts), 5)]
    assert _joins_exactly(tokenizer)
    assert assert_same(tokenizer, texts, budget=30) > len(texts)


def test_minilm_windows_are_the_same_either_way_on_the_seed_passages() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(resolve_encoder("all-MiniLM-L6-v2")))
    assert _joins_exactly(tokenizer)
    assert assert_same(tokenizer, seed_texts(240), budget=126) > 280


def test_a_cut_sentence_or_a_target_takes_the_tokenizer_path(tiny_encoder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    long = " ".join(["ceasefire talks resumed in geneva"] * 20) + "."
    docs = build_documents([long, tiny_rows()[0]["text"]], tokenizer, 30, 7)
    assert docs[0].token_ids is None and docs[1].token_ids is not None
    refs = [WindowRef(1, 0)]
    paired = encode(tokenizer, docs, refs, 64, ["Ukraine"])
    assert tokenizer.convert_ids_to_tokens(paired.tensors["input_ids"][0].tolist())[1] == "ukraine"


@pytest.mark.parametrize("with_sentences", [True, False])
def test_encode_matches_the_tokenizer_for_plain_windows(tiny_encoder: Path, with_sentences: bool) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    docs = build_documents([r["text"] for r in tiny_rows()[:12]], tokenizer, 30, 7)
    refs = [WindowRef(d, w) for d, doc in enumerate(docs) for w in range(len(doc.windows))]
    fast = encode(tokenizer, docs, refs, 32, None, with_sentences)
    slow = _encode_text(tokenizer, docs, refs, 32, None, with_sentences)
    for key, value in slow.tensors.items():
        assert torch.equal(fast.tensors[key], value), key
    assert fast.token_sentences.shape == slow.token_sentences.shape
