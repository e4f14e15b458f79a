"""The real-text set: every row traceable (URL, outlet, date, licence) under a licence that allows keeping it,
a frozen test part of at least 150 that never shares a page with training, labels valid for the scheme."""

from __future__ import annotations

import json
from collections import Counter

from framelens.model.scheme import SEEDS_DIR, Scheme
from framelens.training.examples import load_examples

REAL = SEEDS_DIR / "ukraine-war" / "real" / "paragraphs.jsonl"
ALLOWED = ("public domain", "CC BY 4.0", "CC BY 3.0", "CC BY 2.5", "CC BY-ND 4.0")


def test_every_row_is_traceable_and_openly_licensed() -> None:
    rows = [json.loads(line) for line in REAL.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 400
    for row in rows:
        assert row["url"].startswith(("https://", "http://")) and row["outlet"] and row["date"][:2] == "20", row["id"]
        assert row["licence"].startswith(ALLOWED) and "NC" not in row["licence"], row["id"]
    assert len({r["outlet"] for r in rows}) >= 4 and len({r["date"][:4] for r in rows}) >= 3


def test_the_test_part_is_frozen_large_enough_and_shares_no_page_with_training() -> None:
    examples = load_examples(REAL, Scheme.load("ukraine-war"))  # labels valid for the scheme, or this raises
    splits = Counter(ex.split for ex in examples)
    assert splits["test"] >= 150 and set(splits) == {"train", "test"}
    pages: dict[str, set[str | None]] = {}
    for ex in examples:
        pages.setdefault(str(ex.meta["url"]).split("#")[0].rstrip("/"), set()).add(ex.split)
    assert all(len(sides) == 1 for sides in pages.values()), "a page's paragraphs sit on one side only"
    texts = [" ".join(ex.text.split()) for ex in examples]
    assert len(set(texts)) == len(texts)
