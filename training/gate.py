"""The promotion gate: a candidate goes live only if it is not worse than the active model on the frozen test split.

Both models are scored on the same examples by the same code (training.scoring); the decision and both metric
tables are written to `gate.json` in the candidate's version folder before it is renamed into place."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from framelens.model.artifact import Artifact
from framelens.model.errors import FramelensError
from framelens.training.examples import Example
from framelens.training.scoring import collect_raw, metrics_from_raw

GATE_FILE = "gate.json"


@dataclass(frozen=True)
class GatePolicy:
    macro_tolerance: float = 0.01  # frames macro-F1 and each target's stance macro-F1 may fall at most this much
    frame_tolerance: float = 0.05  # and no single frame's F1 may fall more than this

    def __post_init__(self) -> None:
        if not (0.0 <= self.macro_tolerance <= 1.0 and 0.0 <= self.frame_tolerance <= 1.0):
            raise FramelensError("gate tolerances are F1 differences: give numbers between 0 and 1")


def evaluate(artifact: Artifact, examples: list[Example], batch_size: int = 64) -> dict[str, Any]:
    raw = collect_raw(artifact.net, artifact.tokenizer, artifact.spec, artifact.scheme, examples, batch_size)
    return metrics_from_raw(raw, artifact.calibration, artifact.scheme)


def checks(candidate: dict[str, Any], active: dict[str, Any], policy: GatePolicy) -> list[dict[str, Any]]:
    """One row per compared figure: both values, the change, how far it may fall, and whether it passed."""
    rows: list[dict[str, Any]] = []

    def add(metric: str, new: float, old: float, allowed: float) -> None:
        change = new - old
        rows.append(
            {
                "metric": metric,
                "candidate": round(new, 4),
                "active": round(old, 4),
                "change": round(change, 4),
                "allowed_drop": allowed,
                "ok": change >= -allowed - 1e-9,
            }
        )

    cf, af = candidate.get("frames") or {}, active.get("frames") or {}
    if cf and af:
        add("frames macro-F1", cf["macro_f1"], af["macro_f1"], policy.macro_tolerance)
        for name, block in af["per_label"].items():
            if block["support"] or cf["per_label"][name]["support"]:
                add(f"frame {name} F1", cf["per_label"][name]["f1"], block["f1"], policy.frame_tolerance)
    cs, as_ = candidate.get("stance") or {}, active.get("stance") or {}
    if cs and as_:
        targets = sorted(set(cs.get("per_target") or {}) & set(as_.get("per_target") or {}))
        for target in targets:
            add(
                f"stance {target} macro-F1",
                cs["per_target"][target]["macro_f1"],
                as_["per_target"][target]["macro_f1"],
                policy.macro_tolerance,
            )
        if not targets:  # too many targets to list one by one: the pooled figure stands in
            add("stance macro-F1 (all targets)", cs["all"]["macro_f1"], as_["all"]["macro_f1"], policy.macro_tolerance)
    return rows


def decide(
    candidate: Artifact,
    active: Artifact | None,
    active_version: str | None,
    test: list[Example],
    policy: GatePolicy,
    batch_size: int = 64,
) -> dict[str, Any]:
    """The gate's verdict with its reasons and both metric tables (the content of gate.json)."""
    decision: dict[str, Any] = {
        "policy": asdict(policy),
        "compared_with": active_version,
        "n_test": len(test),
        "checks": [],
        "candidate": {},
        "active": {},
    }
    if active is None:
        return {**decision, "promote": True, "reasons": ["no active model to compare with: the candidate goes live"]}
    if not test:
        reason = "no frozen test split in the training data: nothing to compare on, so the candidate is kept aside"
        return {**decision, "promote": False, "reasons": [reason]}
    if active.scheme.to_dict() != candidate.scheme.to_dict():
        return {**decision, "promote": False, "reasons": ["the active model has another scheme: no comparison"]}
    decision["candidate"] = evaluate(candidate, test, batch_size)
    decision["active"] = evaluate(active, test, batch_size)
    decision["checks"] = checks(decision["candidate"], decision["active"], policy)
    failed = [c for c in decision["checks"] if not c["ok"]]
    reasons = [
        f"{c['metric']} fell {-c['change']:.3f} ({c['active']:.3f} -> {c['candidate']:.3f}), "
        f"more than the {c['allowed_drop']:.3f} allowed"
        for c in failed
    ]
    if not decision["checks"]:
        reasons = ["the test split holds no labels both models can be compared on"]
    promote = not reasons
    if promote:
        reasons = [f"no figure fell by more than allowed ({len(decision['checks'])} checked on {len(test)} passages)"]
    return {**decision, "promote": promote, "reasons": reasons}


def write_decision(directory: Path, decision: dict[str, Any]) -> None:
    """Atomic: a reader sees the whole file or none (it also lands before the version's own rename)."""
    tmp = directory / f".{GATE_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(decision, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, directory / GATE_FILE)


def read_decision(directory: Path) -> dict[str, Any] | None:
    path = directory / GATE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def summary(decision: dict[str, Any]) -> dict[str, Any]:
    """What `GET /v1/models` and `framelens models` show: the verdict, its reasons and the compared figures."""
    return {
        "promote": bool(decision.get("promote")),
        "compared_with": decision.get("compared_with"),
        "reasons": list(decision.get("reasons") or []),
        "checks": list(decision.get("checks") or []),
    }
