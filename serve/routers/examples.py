"""Labelled examples: POST /v1/examples (JSON list, JSONL or CSV), imports from labelling tools, export, counts."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from framelens.model.errors import DataError
from framelens.model.scheme import Scheme
from framelens.serve.deps import PredictorDep, ReadAccess, RegistryDep, SettingsDep, WriteAccess
from framelens.serve.retrain_schemas import ExamplesAdded, ExampleStats, ImportOut, InvalidExamples
from framelens.serve.schemas import ErrorBody
from framelens.serve.uploads import UPLOAD_BODY, invalid_examples, read_upload
from framelens.training.examples import Example
from framelens.training.imports import import_labels
from framelens.training.registry import Registry
from framelens.training.store import ExampleStore, check_against_active, check_rows, parse_upload

router = APIRouter(tags=["examples"])
Format = Literal["labelstudio", "labelstudio-min", "labelstudio-csv", "argilla"]
_REFUSED: dict[int | str, dict[str, Any]] = {
    **{s: {"model": ErrorBody} for s in (400, 401, 403, 413, 415, 503)},
    # A refused upload lists its problems; a malformed request (a bad query parameter) gets the plain error body.
    422: {"model": InvalidExamples | ErrorBody, "description": "the upload was refused whole: one line per problem"},
}


class JsonLines(StreamingResponse):
    media_type = "application/x-ndjson"


@router.post(
    "/v1/examples",
    response_model=ExamplesAdded,
    dependencies=[WriteAccess],
    responses=_REFUSED,
    openapi_extra=UPLOAD_BODY,
    summary="Store labelled passages, checked against the served model's scheme: the whole upload or nothing",
)
async def add_examples(
    request: Request, settings: SettingsDep, predictor: PredictorDep, registry: RegistryDep
) -> ExamplesAdded | JSONResponse:
    content, suffix, source = await read_upload(request)
    scheme = predictor.scheme
    try:
        if suffix == ".txt":
            suffix = ".jsonl"  # text/plain is read as JSON Lines
        items = parse_upload(content, suffix, scheme, source)
        return await asyncio.to_thread(_store, settings.home, registry, items, scheme, source)
    except DataError as exc:
        return invalid_examples(request, exc)


@router.post(
    "/v1/examples/import",
    response_model=ImportOut,
    dependencies=[WriteAccess],
    responses=_REFUSED,
    openapi_extra=UPLOAD_BODY,
    summary="Import a Label Studio (JSON, JSON_MIN, CSV) or Argilla export; says what was skipped and why",
)
async def import_examples(
    request: Request,
    settings: SettingsDep,
    predictor: PredictorDep,
    registry: RegistryDep,
    format: Annotated[Format, Query(description="the export's format")],
) -> ImportOut | JSONResponse:
    content, _, source = await read_upload(request, name=f"{format} export")
    scheme = predictor.scheme
    try:
        report = import_labels(content, format, scheme, source)
        if not report.rows:
            reasons = [f"{s.where}: {s.reason}" for s in report.skipped] or ["the export holds no tasks or records"]
            raise DataError(source, ["nothing to import; every item was skipped:", *reasons])
        items = check_rows(report.rows, scheme, source)
        stored = await asyncio.to_thread(_store, settings.home, registry, items, scheme, source)
    except DataError as exc:
        return invalid_examples(request, exc)
    return ImportOut.model_validate({**report.to_dict(), "stored": stored.model_dump()})


@router.get(
    "/v1/examples",
    response_class=JsonLines,
    dependencies=[ReadAccess],
    responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}, 401: {}, 403: {}},
    summary="Every stored labelled passage as JSON Lines (the format `framelens train` and this route read)",
)
def export_examples(settings: SettingsDep) -> JsonLines:
    store = ExampleStore(settings.home)
    return JsonLines(store.export_jsonl(), headers={"Content-Disposition": 'attachment; filename="examples.jsonl"'})


@router.get(
    "/v1/examples/stats",
    response_model=ExampleStats,
    dependencies=[ReadAccess],
    responses={s: {"model": ErrorBody} for s in (401, 403)},
    summary="Stored passages per frame, per stance target and label, and per split",
)
def example_stats(request: Request, settings: SettingsDep) -> ExampleStats:
    predictor = request.app.state.holder.current()
    return ExampleStats.model_validate(ExampleStore(settings.home).stats(predictor.scheme if predictor else None))


def _store(home: Any, registry: Registry, items: list[tuple[int, Example]], scheme: Scheme, source: str) -> Any:
    check_against_active(items, registry, source)
    result = ExampleStore(home).add(items, scheme, source)
    return ExamplesAdded.model_validate(result.to_dict())
