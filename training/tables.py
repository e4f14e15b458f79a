"""Plain-text tables of metrics, the model beside the baseline: for the terminal and MODEL_CARD.md."""

from __future__ import annotations

from typing import Any


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def comparison_rows(model: dict[str, Any], baseline: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    rows: list[tuple[str, float | None, float | None]] = []
    mf, bf = model.get("frames") or {}, baseline.get("frames") or {}
    for label, block in (mf.get("per_label") or {}).items():
        rows.append((f"frame {label} F1", block["f1"], (bf.get("per_label") or {}).get(label, {}).get("f1")))
    if mf:
        rows.append(("frames macro-F1", mf["macro_f1"], bf.get("macro_f1")))
        rows.append(("frames micro-F1", mf["micro_f1"], bf.get("micro_f1")))
        rows.append(("frames ECE (lower is better)", mf.get("ece"), bf.get("ece")))
    ms, bs = model.get("stance") or {}, baseline.get("stance") or {}
    for target, block in (ms.get("per_target") or {}).items():
        other = (bs.get("per_target") or {}).get(target, {})
        rows.append((f"stance {target} macro-F1", block["macro_f1"], other.get("macro_f1")))
        rows.append((f"stance {target} accuracy", block["accuracy"], other.get("accuracy")))
    if ms:
        rows.append(
            (
                f"stance (all {ms.get('n_targets')} targets) macro-F1",
                ms["all"]["macro_f1"],
                (bs.get("all") or {}).get("macro_f1"),
            )
        )
        rows.append(("stance accuracy", ms["all"]["accuracy"], (bs.get("all") or {}).get("accuracy")))
        rows.append(("stance ECE (lower is better)", ms["all"]["ece"], (bs.get("all") or {}).get("ece")))
    return rows


def text_table(model: dict[str, Any], baseline: dict[str, Any], title: str = "") -> str:
    rows = comparison_rows(model, baseline)
    width = max([len(r[0]) for r in rows] + [10])
    lines = [title] if title else []
    lines.append(f"{'metric':<{width}}  framelens  TF-IDF+LR")
    lines += [f"{name:<{width}}  {_fmt(a):>9}  {_fmt(b):>9}" for name, a, b in rows]
    return "\n".join(lines)


def markdown_table(model: dict[str, Any], baseline: dict[str, Any]) -> str:
    lines = ["| metric | framelens | TF-IDF + LR |", "|---|---:|---:|"]
    lines += [f"| {name} | {_fmt(a)} | {_fmt(b)} |" for name, a, b in comparison_rows(model, baseline)]
    return "\n".join(lines)
