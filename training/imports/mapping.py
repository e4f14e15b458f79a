"""Labelling-tool answers -> framelens rows: a `frames` choice list and one `stance_<Target>` choice per target."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from framelens.model.scheme import Scheme

FRAMES_CONTROL = "frames"
STANCE_PREFIX = "stance_"


@dataclass(frozen=True)
class Skipped:
    where: str  # "task 17", "record 3", "line 9"
    reason: str


@dataclass
class ImportReport:
    """What an import kept (rows ready for validation) and what it skipped, with the reason for each."""

    format: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored_controls: Counter[str] = field(default_factory=Counter)

    def skip(self, where: str, reason: str) -> None:
        self.skipped.append(Skipped(where, reason))

    def to_dict(self) -> dict[str, Any]:
        reasons = Counter(s.reason.split(":")[0] for s in self.skipped)
        return {
            "format": self.format,
            "kept": len(self.rows),
            "skipped": len(self.skipped),
            "skipped_by_reason": dict(reasons.most_common()),
            "skipped_items": [{"where": s.where, "reason": s.reason} for s in self.skipped[:200]],
            "ignored_controls": dict(self.ignored_controls),
        }


def shown(value: Any, limit: int = 80) -> str:
    """A value as a skip reason quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unreadable(what: str, value: Any, expected: str) -> str:
    return f"unreadable answer: {what} holds {shown(value)}, expected {expected}"


def id_problem(field_name: str, value: Any) -> str | None:
    """None when `value` can be an id (absent, text or a number); else why the item is skipped."""
    if value is None or isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None
    return unreadable(f"{field_name!r}", value, "a string or number id")


def as_choices(value: Any) -> list[str] | None:
    """A tool's answer as a list of labels: "a", ["a", "b"] or {"choices": [...]}; None when unreadable."""
    if value is None or value == "":
        return []
    if isinstance(value, dict) and "choices" in value:
        value = value["choices"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def labels_row(answers: dict[str, Any], scheme: Scheme, report: ImportReport) -> tuple[dict[str, Any], str | None]:
    """{control name: answer} -> ({"frames", "stance"}, None) or ({}, why the item is skipped).

    A submitted annotation that ticks no frame means "no frame" (tools store no result for an empty choice)."""
    row: dict[str, Any] = {"frames": []} if scheme.has_frames else {}
    stance: dict[str, str] = {}
    for name, raw in answers.items():
        labels = as_choices(raw)
        if name != FRAMES_CONTROL and not name.startswith(STANCE_PREFIX):
            report.ignored_controls[name] += 1
            continue
        if labels is None:
            return {}, unreadable(f"control {name!r}", raw, "choices")
        if name == FRAMES_CONTROL:
            for label in labels:
                if label not in scheme.frame_names:
                    hint = scheme.nearest_frame(label)
                    return {}, f"unknown label: frame {label!r} is not in scheme {scheme.name!r} (nearest: {hint!r})"
            row["frames"] = list(dict.fromkeys(labels))
            continue
        target = name[len(STANCE_PREFIX) :].strip()
        if not labels:
            continue
        if not target or len(labels) > 1:
            return {}, f"unreadable answer: control {name!r} needs one stance label for a named target, got {labels}"
        if labels[0] not in scheme.stance_labels:
            hint = scheme.nearest_stance(labels[0]) if scheme.has_stance else None
            return {}, f"unknown label: stance {labels[0]!r} for {target!r} is not in the scheme (nearest: {hint!r})"
        stance[target] = labels[0]
    if stance:
        row["stance"] = stance
    return row, None


def with_meta(row: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata from the tool, never overwriting the labels (a data field named `frames` is not a label)."""
    kept = {k: v for k, v in meta.items() if k not in ("frames", "stance", "text", "id") and v not in (None, "")}
    return {**kept, **row}
