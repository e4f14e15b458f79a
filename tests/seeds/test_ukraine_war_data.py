"""The default scheme's seed corpus meets its data card: counts, coverage, a frozen test split, no leaks."""

from __future__ import annotations

import re
from collections import Counter
from itertools import product

import pytest

from framelens.model.scheme import SEEDS_DIR, Scheme
from framelens.training.examples import Example, load_examples

PASSAGES = SEEDS_DIR / "ukraine-war" / "passages.jsonl"
SEED_ARTICLE = SEEDS_DIR / "articles" / "000_6397c338deac182e.jsonl"


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_examples(PASSAGES, Scheme.load("ukraine-war"))  # raises on any invalid label


def test_size_length_dates_and_voices(corpus: list[Example]) -> None:
    assert len(corpus) >= 1500
    words = [len(ex.text.split()) for ex in corpus]
    assert min(words) >= 20 and max(words) <= 150
    assert all(re.fullmatch(r"202[2-5]-\d\d-\d\d", ex.meta["date"]) for ex in corpus)
    assert {ex.meta["date"][:4] for ex in corpus} == {"2022", "2023", "2024", "2025"}
    assert len({ex.meta["source"] for ex in corpus}) >= 12


def test_label_coverage(corpus: list[Example]) -> None:
    scheme = Scheme.load("ukraine-war")
    counts = Counter(f for ex in corpus for f in ex.frames)
    assert all(counts[f] >= 120 for f in scheme.frame_names), counts
    assert sum(len(ex.frames) >= 2 for ex in corpus) >= 0.25 * len(corpus)
    assert sum(not ex.frames for ex in corpus) >= 0.08 * len(corpus)
    for target in scheme.default_targets:
        assert all(target in ex.stance for ex in corpus), f"every passage labels {target}"
        shares = Counter(ex.stance[target] for ex in corpus)
        assert all(shares[label] >= 0.15 * len(corpus) for label in scheme.stance_labels), (target, shares)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def test_frozen_test_split_without_near_duplicates(corpus: list[Example]) -> None:
    assert all(ex.split in ("train", "dev", "test") for ex in corpus), "every row carries its split"
    test = [_tokens(ex.text) for ex in corpus if ex.split == "test"]
    rest = [_tokens(ex.text) for ex in corpus if ex.split != "test"]
    assert len(test) >= 0.15 * len(corpus)
    leaks = [1 for a, b in product(rest, test) if len(a & b) >= 0.8 * len(a | b)]
    assert not leaks, f"{len(leaks)} train/dev passages are near-duplicates (Jaccard >= 0.8) of test passages"


def test_seed_article_paragraphs_are_labelled() -> None:
    rows = load_examples(SEED_ARTICLE, Scheme.load("ukraine-war"))
    article = (SEEDS_DIR / "articles" / "000_6397c338deac182e.txt").read_text(encoding="utf-8")
    assert len(rows) == 7 and all(ex.split == "test" for ex in rows)
    assert all(article[ex.meta["start"] : ex.meta["start"] + len(ex.text)] == ex.text for ex in rows)


def test_double_annotation_is_adjudicated_and_applied(corpus: list[Example]) -> None:
    from framelens.training.agreement import agreement, load_double_annotation

    rows = load_double_annotation(SEEDS_DIR / "ukraine-war" / "annotation" / "double-annotated.jsonl")
    result = agreement(rows, Scheme.load("ukraine-war"))
    assert result["n"] >= 300 and result["adjudicated"] == result["disagreements"]
    final = {ex.id: ex for ex in corpus}
    for row in rows:
        decided = row.get("adjudicated", row["first"])
        assert set(final[row["id"]].frames) == set(decided["frames"]), row["id"]
        assert final[row["id"]].stance == decided["stance"], row["id"]
