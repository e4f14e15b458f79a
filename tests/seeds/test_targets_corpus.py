"""The multi-target stance corpus: many targets beyond Ukraine and Russia, balanced labels per target, and a test
split whose targets no training passage labels."""

from __future__ import annotations

from collections import Counter, defaultdict

from framelens.model.scheme import SEEDS_DIR, Scheme
from framelens.training.examples import load_examples

CORPUS = SEEDS_DIR / "ukraine-war" / "targets" / "passages.jsonl"
OWN = {"Ukraine", "Russia"}


def test_the_test_targets_are_never_labelled_in_training_and_labels_are_balanced() -> None:
    examples = load_examples(CORPUS, Scheme.load("ukraine-war"))
    assert len(examples) >= 1200
    seen = {t for ex in examples if ex.split != "test" for t in ex.stance} - OWN
    unseen = {t for ex in examples if ex.split == "test" for t in ex.stance} - OWN
    assert len(seen | unseen) >= 40 and len(unseen) >= 10 and not seen & unseen
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in examples:
        assert 1 <= len(set(ex.stance) - OWN) <= 4 and set(ex.stance) >= OWN, ex.id
        for target, label in ex.stance.items():
            labels[target][label] += 1
    for target in seen | unseen:
        counts = labels[target]
        assert min(counts[lab] for lab in ("favor", "against", "neutral")) >= 5, (target, counts)
