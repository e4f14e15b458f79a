"""Articles built from labelled passages: k passages joined as paragraphs, labelled with the union of their
frames. What frame calibration and the window benchmark use to see how scores behave on long documents when the
labelled data holds only passages."""

from __future__ import annotations

import random

from framelens.training.examples import Example

SIZES = (2, 4, 8, 16)


def built_articles(
    examples: list[Example], sizes: tuple[int, ...] = SIZES, per_size: int = 24, seed: int = 0
) -> list[Example]:
    """`per_size` articles of each size in `sizes`, from frame-labelled `examples` (deterministic for `seed`).
    Stance is left unlabelled: an article of many passages has no stance that follows from theirs."""
    pool = [ex for ex in examples if ex.frames_labelled]
    rng = random.Random(seed)
    articles = []
    for k in sizes:
        if len(pool) < k:
            continue
        for i in range(per_size):
            parts = rng.sample(pool, k)
            frames = tuple(dict.fromkeys(f for ex in parts for f in ex.frames))
            text = "\n\n".join(ex.text for ex in parts)
            articles.append(Example(id=f"article-{k}-{i}", text=text, frames=frames, meta={"passages": k}))
    return articles
