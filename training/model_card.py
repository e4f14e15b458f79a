"""MODEL_CARD.md: what a version is, what it was trained on, and how well it does beside the baseline."""

from __future__ import annotations

from typing import Any

from framelens.training.tables import markdown_table


def _stance_reading(meta: dict[str, Any]) -> str:
    targets = meta.get("stance_targets") or []
    if not meta.get("stance_labels"):
        return "- stance: none"
    if targets and meta.get("stance_open_targets"):
        return (
            f"- stance: toward {', '.join(targets)} in the same pass as frames, and toward any other target through"
            " a (target, text) pass (hybrid mode; answers say whether training labelled the target)"
        )
    if targets:
        return f"- stance: read in the same pass as frames, toward {', '.join(targets)} only (heads mode)"
    return "- stance: one (target, text) pass per target; any target may be asked about (paired mode)"


def _by_file(by_file: dict[str, Any]) -> list[str]:
    """One table per data file's test rows (real text first: the figures that say how it does on news)."""
    if not by_file:
        return []
    lines = ["## Test rows of each data file, beside the baseline on the same rows", ""]
    for name, block in sorted(by_file.items(), key=lambda item: "real" not in item[0]):
        lines += [
            f"### `{name}` ({block['n']} test passages)",
            "",
            markdown_table(block["model"], block["baseline"]),
            "",
        ]
    return lines


def render_model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    test, baseline = metrics.get("test") or {}, metrics.get("baseline") or {}
    counts = meta.get("data", {}).get("counts", {})
    return "\n".join(
        [
            f"# framelens model {meta['version']}",
            "",
            f"- scheme: `{meta['scheme']}`; frames: {', '.join(meta.get('frames', [])) or 'none'}; "
            f"stance labels: {', '.join(meta.get('stance_labels', [])) or 'none'}",
            f"- encoder: `{meta['encoder']}`; started from: `{meta['init_from']}`",
            _stance_reading(meta),
            f"- trained: {meta['created']} in {meta['elapsed_s']:.0f} s; best epoch {meta.get('best_epoch')}",
            f"- data: {', '.join(meta['data'].get('files', []))} (fingerprint `{meta['data']['fingerprint']}`); "
            f"train {counts.get('train', 0)}, dev {counts.get('dev', 0)}, test {counts.get('test', 0)} passages",
            "",
            "## Test-split metrics, beside a TF-IDF + logistic-regression baseline on the same split",
            "",
            markdown_table(test, baseline) if test else "No test split: metrics are not available.",
            "",
            *_by_file(metrics.get("test_by_file") or {}),
            "Scores are calibrated on the dev split (Platt scaling per frame, temperature for stance). Frame",
            "decisions use one threshold tuned on dev for macro-F1 (a frame with 60+ dev positives gets its own);",
            "stance decisions add per-label offsets tuned on dev for macro-F1. ECE is the expected calibration",
            "error (10 bins).",
            "",
            "## Intended use and limits",
            "",
            "Labels how a passage frames its subject and where it stands toward each target, with the sentences",
            "that drove each frame. It reflects its training data: read the data card of the seeds it was trained on,",
            "and check a sample of its output before drawing conclusions from aggregate trends.",
            "",
        ]
    )
