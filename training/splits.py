"""Deterministic train/dev/test splits: the data's own split or fold when present, else a hash of the id."""

from __future__ import annotations

import hashlib

from framelens.model.errors import FramelensError
from framelens.training.examples import Example


def hash_bucket(identifier: str, buckets: int = 100) -> int:
    return int(hashlib.sha256(identifier.encode()).hexdigest()[:8], 16) % buckets


def split_examples(examples: list[Example], dev_percent: int = 10, test_percent: int = 10) -> dict[str, list[Example]]:
    """Rows with a `split` field keep it; the rest are placed by hash, so a row never moves between runs."""
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex in examples:
        if ex.split:
            parts[ex.split].append(ex)
            continue
        bucket = hash_bucket(ex.id)
        name = "test" if bucket < test_percent else "dev" if bucket < test_percent + dev_percent else "train"
        parts[name].append(ex)
    return parts


def fold_split(examples: list[Example], test_fold: int) -> dict[str, list[Example]]:
    """The Narrative Frames protocol: test = fold k, dev = fold k-1 (fold 1's dev is the last), train = rest."""
    folds = sorted({ex.fold for ex in examples if ex.fold is not None})
    if test_fold not in folds:
        raise FramelensError(f"fold {test_fold} is not in the data; its folds are {folds}")
    dev_fold = folds[folds.index(test_fold) - 1]
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex in examples:
        name = "test" if ex.fold == test_fold else "dev" if ex.fold == dev_fold else "train"
        parts[name].append(ex)
    return parts
