"""Inter-annotator agreement on double-annotated passages: Cohen's kappa per frame and per stance target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sklearn.metrics import cohen_kappa_score

from framelens.model.errors import FramelensError
from framelens.model.scheme import Scheme


def load_double_annotation(path: str | Path) -> list[dict[str, Any]]:
    """Rows of {"id", "first": {frames, stance}, "second": {frames, stance}, "adjudicated"?: {...}}."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FramelensError(f"{path}:{number}: broken JSON ({exc.msg})") from None
        if not isinstance(row, dict) or "first" not in row or "second" not in row:
            raise FramelensError(f"{path}:{number}: each row needs 'first' and 'second' label sets")
        rows.append(row)
    return rows


def agreement(rows: list[dict[str, Any]], scheme: Scheme) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows), "frames": {}, "stance": {}}
    for frame in scheme.frame_names:
        a = [frame in r["first"]["frames"] for r in rows]
        b = [frame in r["second"]["frames"] for r in rows]
        out["frames"][frame] = _pair(a, b)
    targets = sorted({t for r in rows for t in r["first"].get("stance", {})})
    for target in targets:
        pairs = [
            (r["first"]["stance"][target], r["second"]["stance"].get(target))
            for r in rows
            if target in r["first"].get("stance", {})
        ]
        out["stance"][target] = _pair([p[0] for p in pairs], [p[1] for p in pairs])
    disagreements = [
        r
        for r in rows
        if set(r["first"]["frames"]) != set(r["second"]["frames"])
        or r["first"].get("stance") != r["second"].get("stance")
    ]
    out["disagreements"] = len(disagreements)
    out["adjudicated"] = sum("adjudicated" in r for r in disagreements)
    return out


def _pair(a: list[Any], b: list[Any]) -> dict[str, float]:
    same = sum(x == y for x, y in zip(a, b, strict=True)) / max(len(a), 1)
    kappa = float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else 1.0
    return {"kappa": round(kappa, 3), "agreement": round(same, 3)}
