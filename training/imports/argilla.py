"""Argilla records (v1 FeedbackDataset and v2 `records.to_json` exports) -> framelens rows.

Expected dataset settings: a text field named `text`, a multi-label question `frames` (the frame names) and one
label question `stance_<Target>` (the stance labels) per target. Only submitted responses count."""

from __future__ import annotations

from typing import Any

from framelens.model.scheme import Scheme
from framelens.training.imports.mapping import ImportReport, id_problem, labels_row, unreadable, with_meta


def from_records(data: Any, scheme: Scheme) -> ImportReport:
    report = ImportReport("argilla")
    records = data.get("records") if isinstance(data, dict) and "records" in data else data
    for position, record in enumerate(records if isinstance(records, list) else [records], 1):
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            report.skip(f"record {position}", "not an Argilla record: no 'fields' object")
            continue
        ident = record.get("id") or record.get("external_id")
        where = f"record {str(ident or position)[:40]}"
        problem = id_problem("id", record.get("id")) or id_problem("external_id", record.get("external_id"))
        if problem:
            report.skip(where, problem)
            continue
        text = _text(record["fields"])
        if text is None:
            report.skip(where, "no text: the record has no non-empty text field")
            continue
        answers, problem = _answers(record.get("responses"))
        if problem:
            report.skip(where, problem)
            continue
        labels, problem = labels_row(answers, scheme, report)
        if problem:
            report.skip(where, problem)
            continue
        meta = record.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        row: dict[str, Any] = {"text": text, **with_meta(labels, meta)}
        if ident:
            row["id"] = str(ident)
        report.rows.append((position, row))
    return report


def _text(fields: dict[str, Any]) -> str | None:
    text = fields.get("text")
    if text is None:
        strings = [v for v in fields.values() if isinstance(v, str)]
        text = strings[0] if len(strings) == 1 else None
    return text if isinstance(text, str) and text.strip() else None


def _answers(responses: Any) -> tuple[dict[str, Any], str | None]:
    """The first annotator's submitted answers: v1 lists responses per user, v2 lists them per question."""
    per_user: dict[str, dict[str, Any]] = {}
    statuses: dict[str, str] = {}
    if isinstance(responses, list):  # v1: [{"user_id", "values": {question: {"value": …}}, "status"}]
        for i, response in enumerate(r for r in responses if isinstance(r, dict)):
            user = str(response.get("user_id", i))
            statuses[user] = str(response.get("status") or "submitted")
            values = response.get("values") or {}
            if not isinstance(values, dict):
                return {}, unreadable("a response's 'values'", values, "an object of answers per question")
            per_user[user] = {q: v.get("value") for q, v in values.items() if isinstance(v, dict)}
    elif isinstance(responses, dict):  # v2: {question: [{"value", "user_id", "status"?}]}
        for question, answers in responses.items():
            if answers is None:
                continue
            if not isinstance(answers, list):
                return {}, unreadable(f"the responses to {question!r}", answers, "a list of answers")
            for answer in answers:
                if not isinstance(answer, dict):
                    continue
                user = str(answer.get("user_id", ""))
                statuses.setdefault(user, str(answer.get("status") or "submitted"))
                per_user.setdefault(user, {})[question] = answer.get("value")
    if not per_user:
        return {}, "no annotation: the record has no responses"
    submitted = [u for u in per_user if statuses.get(u) == "submitted"]
    if not submitted:
        if "discarded" in statuses.values():
            return {}, "cancelled: every response to this record was discarded"
        return {}, "no annotation: only draft responses, none submitted"
    return per_user[submitted[0]], None
