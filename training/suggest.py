"""Active learning: which unlabelled passages to label next (least sure, kept diverse), in a tool's import format.

Uncertainty: a frame score near its decision threshold, and a flat stance distribution (high entropy).
Diversity: greedy max-min cosine distance on TF-IDF vectors (weighted by uncertainty) among the most uncertain."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from framelens.model.errors import DataError
from framelens.model.prediction import TextPrediction
from framelens.training.examples import TOO_DEEP
from framelens.training.imports.labelstudio import task

CANDIDATES_PER_PICK = 3  # diversity chooses among the 3n most uncertain passages


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    passage: Passage
    uncertainty: float
    frame_uncertainty: float | None
    stance_uncertainty: float | None
    prediction: TextPrediction


def passage_id(text: str) -> str:
    """The id a labelled row without one gets (training.examples): a hash of its text."""
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def read_archive(path: str | Path) -> list[Passage]:
    """JSONL (objects with `text`, or strings), CSV with a `text` column, or plain text (passages separated by
    blank lines; a file without blank lines holds one passage a line)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), ["file not found: give a .jsonl, .csv or .txt file of passages"])
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(str(path), [f"byte {exc.start}: not UTF-8 text; save the file as UTF-8"]) from None
    return parse_archive(content, path.suffix.lower(), str(path))


def parse_archive(content: str, suffix: str, source: str) -> list[Passage]:
    items: list[tuple[int, Any]] = []
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(content, newline=""))
        try:
            if "text" not in (reader.fieldnames or []):
                raise DataError(source, [f"{source}:1: no 'text' column; the header is {reader.fieldnames}"])
            items = [(reader.line_num, row) for row in reader]
        except csv.Error as exc:  # a field over the size limit, a stray line break
            problem = f"{source}:{reader.line_num + 1}: unreadable CSV ({exc}): save the file as CSV again"
            raise DataError(source, [problem]) from None
    elif suffix in (".jsonl", ".json", ".ndjson"):
        for number, line in enumerate(content.splitlines(), 1):
            if line.strip():
                try:
                    items.append((number, json.loads(line)))
                except RecursionError:
                    raise DataError(source, [f"{source}:{number}: {TOO_DEEP}"]) from None
                except json.JSONDecodeError as exc:
                    raise DataError(
                        source, [f"{source}:{number}: broken JSON at column {exc.colno}: {exc.msg}"]
                    ) from None
    else:
        blocks = content.split("\n\n") if "\n\n" in content.replace("\r\n", "\n") else content.splitlines()
        items = [(i, " ".join(b.split())) for i, b in enumerate(blocks, 1)]
    passages, seen = [], set()
    for _, item in items:
        text = item if isinstance(item, str) else item.get("text") if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            continue
        meta = {k: v for k, v in item.items() if k not in ("id", "text")} if isinstance(item, dict) else {}
        raw_id = item.get("id") if isinstance(item, dict) else None
        ident = str(raw_id) if raw_id not in (None, "") else passage_id(text)
        if ident not in seen:
            seen.add(ident)
            passages.append(Passage(ident, text, meta))
    if not passages:
        raise DataError(source, [f"{source}: no passages found: one passage a line, or JSONL with a 'text' field"])
    return passages


def frame_uncertainty(prediction: TextPrediction, thresholds: dict[str, float]) -> float | None:
    """1 when some frame's score sits on its threshold, 0 when every score is as far from it as it can be."""
    values = []
    for frame in prediction.frames:
        cut = min(max(thresholds.get(frame.label, 0.5), 1e-6), 1.0 - 1e-6)
        room = cut if frame.score < cut else 1.0 - cut  # how far the score could be on its side of the threshold
        values.append(1.0 - min(abs(frame.score - cut) / room, 1.0))
    return max(values) if values else None


def stance_uncertainty(prediction: TextPrediction) -> float | None:
    """Mean normalised entropy of the stance distributions: 1 when every label is equally likely."""
    values = []
    for result in prediction.stance.values():
        probs = np.clip(np.array(list(result.scores.values()), dtype=float), 1e-12, 1.0)
        if len(probs) > 1:
            values.append(float(-(probs * np.log(probs)).sum() / math.log(len(probs))))
    return float(np.mean(values)) if values else None


def diverse(texts: Sequence[str], uncertainty: Sequence[float], n: int) -> list[int]:
    """Greedy: start from the most uncertain passage, then keep taking the one with the most uncertainty times
    distance to those taken, among the 3n most uncertain (a near-copy of a chosen passage is worth little)."""
    order = sorted(range(len(texts)), key=lambda i: -uncertainty[i])
    pool = order[: max(n * CANDIDATES_PER_PICK, n)]
    if len(pool) <= 1 or n <= 1:
        return pool[:n]
    try:
        vectors = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)).fit_transform([texts[i] for i in pool])
    except ValueError:  # no words at all (only numbers or punctuation): nothing to tell the passages apart by
        return pool[:n]
    similarity = (vectors @ vectors.T).toarray()
    weight = np.array([uncertainty[i] for i in pool]) + 1e-3
    chosen = [0]
    nearest = np.clip(1.0 - similarity[0], 0.0, 1.0)
    while len(chosen) < min(n, len(pool)):
        score = weight * nearest
        score[chosen] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        nearest = np.minimum(nearest, np.clip(1.0 - similarity[best], 0.0, 1.0))
    return [pool[i] for i in chosen]


def suggest(
    passages: list[Passage],
    predictions: list[TextPrediction],
    thresholds: dict[str, float],
    n: int,
) -> list[Suggestion]:
    scored = []
    for passage, prediction in zip(passages, predictions, strict=True):
        fu, su = frame_uncertainty(prediction, thresholds), stance_uncertainty(prediction)
        parts = [u for u in (fu, su) if u is not None]
        scored.append(Suggestion(passage, float(np.mean(parts)) if parts else 0.0, fu, su, prediction))
    picked = diverse([p.text for p in passages], [s.uncertainty for s in scored], n)
    return [scored[i] for i in picked]


def predict_in_chunks(
    classify: Callable[[list[str]], list[TextPrediction]], passages: list[Passage], chunk: int = 64
) -> list[TextPrediction]:
    out: list[TextPrediction] = []
    for start in range(0, len(passages), chunk):
        out += classify([p.text for p in passages[start : start + chunk]])
    return out


def as_labelstudio(suggestions: list[Suggestion]) -> list[dict[str, Any]]:
    """Label Studio tasks (JSON import), pre-annotated with the model's answer and its uncertainty."""
    return [
        task(
            s.passage.id,
            s.passage.text,
            s.prediction.predicted_frames,
            {t: r.label for t, r in s.prediction.stance.items()},
            s.prediction.model_version,
            1.0 - s.uncertainty,
            {**s.passage.meta, "uncertainty": round(s.uncertainty, 4)},
        )
        for s in suggestions
    ]


def as_jsonl(suggestions: list[Suggestion]) -> str:
    """One passage a line, ready to label: fill in `frames` and `stance`, then `framelens examples add`."""
    rows = [
        {
            "id": s.passage.id,
            "text": s.passage.text,
            **s.passage.meta,
            "uncertainty": round(s.uncertainty, 4),
            "model_frames": s.prediction.predicted_frames,
            "model_stance": {t: r.label for t, r in s.prediction.stance.items()},
            "model_version": s.prediction.model_version,
        }
        for s in suggestions
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
