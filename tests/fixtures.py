"""Tiny labelled data and a tiny random BERT whose vocabulary covers it, so tests run offline in seconds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from framelens.model.scheme import Frame, Scheme

TINY_SCHEME = Scheme(
    name="tiny",
    frames=(
        Frame("negotiation", "talks"),
        Frame("military_aid", "weapons"),
        Frame("humanitarian", "human cost"),
    ),
    stance_labels=("favor", "against", "neutral"),
    default_targets=("Ukraine", "Russia"),
)

_CUES = {
    "negotiation": [
        "ceasefire talks resumed in geneva",
        "diplomats discussed a peace settlement",
        "mediators proposed new negotiations",
    ],
    "military_aid": [
        "a new weapons package arrived",
        "artillery and air defence were delivered",
        "allies pledged more ammunition",
    ],
    "humanitarian": [
        "civilians fled the shelled city",
        "refugees crossed the border at night",
        "families mourned the killed residents",
    ],
}
_STANCE = {
    "favor": "the brave defenders held firm",
    "against": "the brutal aggressor shelled homes",
    "neutral": "officials reported the figures",
}


def tiny_rows(n: int = 48) -> list[dict]:
    """Deterministic passages whose labels follow their cue phrases; every few rows carry two frames."""
    frames = list(_CUES)
    stances = list(_STANCE)
    rows = []
    for i in range(n):
        primary = frames[i % 3]
        labels = [primary] + ([frames[(i + 1) % 3]] if i % 4 == 0 else [])
        u, r = stances[i % 3], stances[(i // 3) % 3]
        sentences = [_CUES[f][(i // 3) % 3].capitalize() + "." for f in labels]
        sentences.append(f"In Ukraine {_STANCE[u]}.")
        sentences.append(f"About Russia {_STANCE[r]}.")
        rows.append(
            {
                "id": f"t-{i:03d}",
                "text": " ".join(sentences),
                "frames": labels,
                "stance": {"Ukraine": u, "Russia": r},
                "source": "test",
                "date": "2023-01-01",
            }
        )
    return rows


def grain_deal_rows(n: int = 24) -> list[dict]:
    """`tiny_rows(n)` with every other row also labelled toward "the grain deal", a target beyond the scheme's."""
    rows = tiny_rows(n)
    for k in range(0, n, 2):
        rows[k]["stance"] = {**rows[k]["stance"], "the grain deal": ("favor", "against")[k % 4 // 2]}
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def vocabulary(texts: list[str]) -> dict[str, int]:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    return {tok: i for i, tok in enumerate(special + words)}


def build_tiny_encoder(directory: Path, texts: list[str]) -> Path:
    """A random 2-layer BERT (hidden 32) with a vocabulary made from `texts`, saved like any HF model."""
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = vocabulary(texts)
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=True)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    directory.mkdir(parents=True, exist_ok=True)
    import torch

    with torch.random.fork_rng():  # the same random encoder every session: thresholds in tests must not be luck
        torch.manual_seed(1234)
        encoder = BertModel(config)
    encoder.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory
