"""Label Studio: read its JSON, JSON_MIN and CSV exports; write the labelling config and tasks it imports.

Expected labelling config (`framelens examples label-config` prints it for a scheme): a `Text` named `text`, a
`Choices` named `frames` (choice="multiple") holding the frame names, and one `Choices` named `stance_<Target>`
(choice="single") per stance target holding the stance labels. Put your own passage id in `data.passage_id`
(framelens' own task exports do); without it a passage's id is `ls-<task id>`."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from typing import Any
from xml.sax.saxutils import quoteattr

from framelens.model.errors import DataError
from framelens.model.scheme import Scheme
from framelens.training.imports.mapping import (
    FRAMES_CONTROL,
    STANCE_PREFIX,
    ImportReport,
    as_choices,
    id_problem,
    labels_row,
    unreadable,
    with_meta,
)

# Bookkeeping columns of JSON_MIN / CSV exports: not labels, not worth keeping as metadata.
_LS_KEYS = {"id", "passage_id", "text", "annotation_id", "created_at", "updated_at", "lead_time", "agreement"}
_LS_KEYS |= {"was_cancelled", "annotator"}


def from_json(data: Any, scheme: Scheme) -> ImportReport:
    """The full JSON export: a list of tasks, each with `data` and `annotations` (each with a `result`)."""
    report = ImportReport("labelstudio")
    tasks = data if isinstance(data, list) else [data]
    for position, task in enumerate(tasks, 1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            report.skip(f"item {position}", "not a Label Studio task: no 'data' object")
            continue
        where = f"task {str(task.get('id', position))[:40]}"
        fields: dict[str, Any] = task["data"]
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip():
            report.skip(where, "no text: the task has no non-empty data.text")
            continue
        problem = id_problem("id", task.get("id")) or id_problem("data.passage_id", fields.get("passage_id"))
        if problem:
            report.skip(where, problem)
            continue
        listed = task.get("annotations") or task.get("completions") or []
        if not isinstance(listed, list):
            report.skip(where, unreadable("'annotations'", listed, "a list of annotations"))
            continue
        annotations = [a for a in listed if isinstance(a, dict)]
        if not annotations:
            report.skip(where, "no annotation: nobody labelled this task")
            continue
        live = [a for a in annotations if not (a.get("was_cancelled") or a.get("skipped"))]
        if not live:
            report.skip(where, "cancelled: every annotation of this task was skipped or cancelled")
            continue
        # A reviewer's ground truth wins; otherwise the newest annotation (as Label Studio's own exports do).
        chosen = max(live, key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or a.get("created_at"))))
        answers, problem = _choices_of(chosen, report)
        if problem:
            report.skip(where, problem)
            continue
        _keep(report, position, where, fields, answers, scheme, f"ls-{task.get('id', position)}")
    return report


def _choices_of(annotation: dict[str, Any], report: ImportReport) -> tuple[dict[str, list[str]], str | None]:
    """{control name: labels} of one annotation's `result`, or why it cannot be read."""
    results = annotation.get("result") or []
    if not isinstance(results, list):
        return {}, unreadable("'result'", results, "a list of answers")
    answers: dict[str, list[str]] = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("value"), dict):
            continue
        name = str(result.get("from_name", ""))
        if "choices" not in result["value"]:
            report.ignored_controls[name] += 1
            continue
        labels = as_choices(result["value"]["choices"])
        if labels is None:
            return {}, unreadable(f"control {name!r}", result["value"]["choices"], "a list of choices")
        answers.setdefault(name, []).extend(labels)
    return answers, None


def from_json_min(data: Any, scheme: Scheme) -> ImportReport:
    """JSON_MIN: one flat object per annotation; a multiple choice reads {"choices": [...]}, a single one a string."""
    report = ImportReport("labelstudio-min")
    items = data if isinstance(data, list) else [data]
    seen: set[str] = set()
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict):
            report.skip(f"item {position}", "not a JSON_MIN record: expected an object")
            continue
        _flat(report, position, item, scheme, seen)
    return report


def from_csv(content: str, scheme: Scheme, source: str = "export") -> ImportReport:
    """CSV export: the JSON_MIN columns; a multiple choice cell holds {"choices": [...]} as JSON."""
    report = ImportReport("labelstudio-csv")
    reader = csv.DictReader(io.StringIO(content, newline=""))
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:  # a field over the size limit, a stray line break
        problem = f"{source}:{reader.line_num + 1}: unreadable CSV ({exc}): export the CSV from Label Studio again"
        raise DataError(source, [problem]) from None
    seen: set[str] = set()
    for line, row in rows:
        item: dict[str, Any] = {k: v for k, v in row.items() if k is not None}
        for key, value in item.items():
            if (key == FRAMES_CONTROL or key.startswith(STANCE_PREFIX)) and str(value).startswith(("{", "[")):
                with contextlib.suppress(json.JSONDecodeError, RecursionError):  # left as text: unreadable
                    item[key] = json.loads(value)
        if str(item.get("was_cancelled", "")).strip().lower() in ("true", "1"):
            report.skip(f"line {line}", "cancelled: the annotation was skipped or cancelled")
            continue
        _flat(report, line, item, scheme, seen, where=f"line {line}")
    return report


def _flat(
    report: ImportReport, position: int, item: dict[str, Any], scheme: Scheme, seen: set[str], where: str = ""
) -> None:
    where = where or f"task {str(item.get('id', position))[:40]}"
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        report.skip(where, "no text: the record has no non-empty 'text'")
        return
    problem = id_problem("id", item.get("id")) or id_problem("passage_id", item.get("passage_id"))
    if problem:
        report.skip(where, problem)
        return
    answers = {k: v for k, v in item.items() if k == FRAMES_CONTROL or k.startswith(STANCE_PREFIX)}
    if item.get("annotation_id") in (None, "") and not any(as_text for as_text in answers.values()):
        report.skip(where, "no annotation: nobody labelled this task")
        return
    task = str(item.get("id", position))
    if task in seen:  # one record per annotation; Label Studio lists the newest first
        report.skip(where, f"another annotation: task {task} was already read from its newest annotation")
        return
    seen.add(task)
    fields = {k: v for k, v in item.items() if k not in _LS_KEYS and k not in answers}
    _keep(
        report,
        position,
        where,
        {"text": text, **fields, "passage_id": item.get("passage_id")},
        answers,
        scheme,
        f"ls-{task}",
    )


def _keep(
    report: ImportReport,
    position: int,
    where: str,
    fields: dict[str, Any],
    answers: dict[str, Any],
    scheme: Scheme,
    fallback_id: str,
) -> None:
    labels, problem = labels_row(answers, scheme, report)
    if problem:
        report.skip(where, problem)
        return
    ident = fields.get("passage_id") or fallback_id
    meta = {k: v for k, v in fields.items() if k not in ("passage_id", "text")}
    report.rows.append((position, {"id": str(ident), "text": fields["text"], **with_meta(labels, meta)}))


def label_config(scheme: Scheme, targets: list[str] | None = None) -> str:
    """The Label Studio labelling config that these imports expect, for `scheme`."""
    lines = ["<View>", '  <Text name="text" value="$text"/>']
    if scheme.has_frames:
        lines.append('  <Header value="Frames (tick every frame the passage emphasises; none is fine)"/>')
        lines.append('  <Choices name="frames" toName="text" choice="multiple" showInLine="false">')
        lines += [f"    <Choice value={quoteattr(f.name)} hint={quoteattr(f.description)}/>" for f in scheme.frames]
        lines.append("  </Choices>")
    for target in targets if targets is not None else list(scheme.default_targets):
        lines.append(f"  <Header value={quoteattr(f'Stance toward {target}')}/>")
        lines.append(
            f'  <Choices name={quoteattr(STANCE_PREFIX + target)} toName="text" choice="single" showInLine="true">'
        )
        lines += [f"    <Choice value={quoteattr(label)}/>" for label in scheme.stance_labels]
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def task(
    ident: str, text: str, frames: list[str], stance: dict[str, str], version: str, score: float, meta: dict[str, Any]
) -> dict[str, Any]:
    """One task to import into Label Studio, pre-annotated with the model's answer (the labeller corrects it)."""
    result: list[dict[str, Any]] = []
    if frames:
        result.append(_choices(FRAMES_CONTROL, frames))
    result += [_choices(STANCE_PREFIX + target, [label]) for target, label in stance.items()]
    return {
        "data": {"text": text, "passage_id": ident, **meta},
        "predictions": [{"model_version": version, "score": round(score, 6), "result": result}],
    }


def _choices(name: str, labels: list[str]) -> dict[str, Any]:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": labels}}
