"""Output rows: one per article (and optionally one per window), nested for JSON Lines, flat for CSV and Parquet.

Flat columns: `score:FRAME`, `stance:TARGET`, `stance_score:TARGET:LABEL`; `labels` joined with ';'; evidence
as one JSON string. Labels never contain ':', so the last ':' of a column always splits target from label."""

from __future__ import annotations

import json
from typing import Any

from framelens.model.prediction import TextPrediction
from framelens.serve.scoring.records import BadRecord, Record

FLOAT_PREFIXES = ("score:", "stance_score:")
INT_COLUMNS = ("windows", "window", "start", "end")


def article_row(record: Record, prediction: TextPrediction, evidence: bool) -> dict[str, Any]:
    row = {
        "id": record.id,
        "title": record.title,
        "date": record.date,
        "outlet": record.outlet,
        "source": record.where,
        "model_version": prediction.model_version,
        "windows": prediction.windows,
        **_labels(prediction),
    }
    if evidence:
        row["evidence"] = {
            "frames": {f.label: [e.to_dict() for e in f.evidence] for f in prediction.frames if f.predicted},
            "stance": {t: [e.to_dict() for e in s.evidence] for t, s in prediction.stance.items()},
        }
    return row


def window_row(record: Record, index: int, start: int, end: int, prediction: TextPrediction) -> dict[str, Any]:
    return {"id": record.id, "window": index, "start": start, "end": end, **_labels(prediction)}


def error_row(bad: BadRecord) -> dict[str, Any]:
    return {"where": bad.where, "reason": bad.reason}


def _labels(prediction: TextPrediction) -> dict[str, Any]:
    return {
        "labels": prediction.predicted_frames,
        "scores": {f.label: f.score for f in prediction.frames},
        "stance": {t: s.label for t, s in prediction.stance.items()},
        "stance_scores": {t: dict(s.scores) for t, s in prediction.stance.items()},
    }


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """A nested row as flat columns (CSV and Parquet)."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if key == "labels":
            flat["labels"] = ";".join(value)
        elif key == "scores":
            flat.update({f"score:{frame}": score for frame, score in value.items()})
        elif key == "stance":
            flat.update({f"stance:{target}": label for target, label in value.items()})
        elif key == "stance_scores":
            for target, scores in value.items():
                flat.update({f"stance_score:{target}:{label}": p for label, p in scores.items()})
        elif key == "evidence":
            flat["evidence"] = json.dumps(value, ensure_ascii=False)
        else:
            flat[key] = value
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat row (read back from CSV or Parquet) in the nested shape; numbers parsed where CSV left text."""
    row: dict[str, Any] = {"labels": [], "scores": {}, "stance": {}, "stance_scores": {}}
    for key, value in flat.items():
        if key == "labels":
            row["labels"] = [x for x in str(value or "").split(";") if x]
        elif key.startswith("score:"):
            row["scores"][key.removeprefix("score:")] = float(value)
        elif key.startswith("stance_score:"):
            target, label = key.removeprefix("stance_score:").rsplit(":", 1)
            row["stance_scores"].setdefault(target, {})[label] = float(value)
        elif key.startswith("stance:"):
            row["stance"][key.removeprefix("stance:")] = value
        elif key == "evidence":
            row["evidence"] = json.loads(value) if value else None
        elif key in INT_COLUMNS:
            row[key] = int(value)
        else:
            row[key] = value if value != "" else None
    return row
