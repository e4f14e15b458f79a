"""GET /v1/suggestions (from the configured pool) and POST /v1/suggestions (from an uploaded archive): what to
label next, as Label Studio tasks or JSON Lines."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from framelens.model.errors import DataError
from framelens.model.predictor import Predictor
from framelens.serve.batcher import Batcher, Options
from framelens.serve.deps import BatcherDep, PredictorDep, ReadAccess, SettingsDep, WriteAccess
from framelens.serve.errors import ApiError
from framelens.serve.schemas import ErrorBody
from framelens.serve.settings import Settings
from framelens.serve.uploads import UPLOAD_BODY, invalid_examples, read_upload
from framelens.training.examples import TOO_DEEP
from framelens.training.store import ExampleStore
from framelens.training.suggest import Passage, as_jsonl, as_labelstudio, parse_archive, read_archive, suggest

router = APIRouter(tags=["suggestions"])
Count = Annotated[int, Query(ge=1, le=1000, description="how many passages to suggest")]
Kind = Annotated[Literal["labelstudio", "jsonl"], Query(description="Label Studio tasks (JSON) or JSON Lines")]
_OUT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the passages to label next, least sure first",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    },
    **{s: {"model": ErrorBody} for s in (400, 401, 403, 409, 413, 415, 422, 503)},
}


@router.get(
    "/v1/suggestions",
    response_class=JSONResponse,
    dependencies=[ReadAccess],
    responses=_OUT,
    summary="Passages of the pool (FRAMELENS_SUGGEST_POOL) the model is least sure about, kept diverse",
)
async def pool_suggestions(
    request: Request,
    settings: SettingsDep,
    predictor: PredictorDep,
    batcher: BatcherDep,
    n: Count = 50,
    format: Kind = "labelstudio",
) -> Response:
    if settings.suggest_pool is None:
        raise ApiError(
            409,
            "no_suggestion_pool",
            "no pool of unlabelled passages is configured: set FRAMELENS_SUGGEST_POOL to a JSONL, CSV or text file, "
            "or POST the passages to /v1/suggestions",
        )
    try:
        passages = await asyncio.to_thread(read_archive, settings.suggest_pool)
    except DataError as exc:
        raise ApiError(409, "unreadable_suggestion_pool", str(exc)) from None
    return await _answer(settings, predictor, batcher, passages, n, format)


@router.post(
    "/v1/suggestions",
    response_class=JSONResponse,
    dependencies=[WriteAccess],  # the caller picks what is scored (up to FRAMELENS_SUGGEST_MAX_POOL passages)
    responses=_OUT,
    openapi_extra=UPLOAD_BODY,
    summary="Of the passages sent (JSONL, CSV or text), those the model is least sure about, kept diverse "
    "(needs an API key)",
)
async def upload_suggestions(
    request: Request,
    settings: SettingsDep,
    predictor: PredictorDep,
    batcher: BatcherDep,
    n: Count = 50,
    format: Kind = "labelstudio",
) -> Response:
    content, suffix, source = await read_upload(request, name="passages")
    try:
        if suffix == ".json" and content.lstrip().startswith("["):
            content = "".join(json.dumps(item) + "\n" for item in _json_list(content, source))
        passages = parse_archive(content, ".jsonl" if suffix == ".json" else suffix, source)
    except DataError as exc:
        return invalid_examples(request, exc, code="invalid_passages")
    if len(passages) > settings.suggest_max_pool:
        raise ApiError(
            413,
            "too_many_passages",
            f"{len(passages)} passages in one request; the limit is {settings.suggest_max_pool} "
            "(FRAMELENS_SUGGEST_MAX_POOL): send them in several requests",
        )
    return await _answer(settings, predictor, batcher, passages, n, format)


async def _answer(
    settings: Settings, predictor: Predictor, batcher: Batcher, passages: list[Passage], n: int, kind: str
) -> Response:
    stored = await asyncio.to_thread(ExampleStore(settings.home).rows)
    known_ids = {row.get("id") for _, row in stored}
    known_texts = {" ".join(str(row.get("text", "")).split()) for _, row in stored}
    fresh = [p for p in passages if p.id not in known_ids and " ".join(p.text.split()) not in known_texts]
    if len(fresh) > settings.suggest_max_pool:  # an even sample of a large pool keeps the request bounded
        step = len(fresh) / settings.suggest_max_pool
        fresh = [fresh[int(i * step)] for i in range(settings.suggest_max_pool)]
    fresh = [p for p in fresh if len(p.text) <= settings.max_text_chars]
    predictions = []
    options = Options(evidence=False)
    # Through the batcher, one batch at a time, so that classify requests keep their turn meanwhile.
    for start in range(0, len(fresh), settings.batch_max_size):
        chunk = [p.text for p in fresh[start : start + settings.batch_max_size]]
        predictions += await batcher.classify(chunk, options)
    thresholds = dict(predictor.artifact.calibration.thresholds)
    chosen = await asyncio.to_thread(suggest, fresh, predictions, thresholds, n)
    if kind == "jsonl":
        return Response(as_jsonl(chosen), media_type="application/x-ndjson")
    return JSONResponse(as_labelstudio(chosen))


def _json_list(content: str, source: str) -> list[Any]:
    try:
        data = json.loads(content)
    except RecursionError:
        raise DataError(source, [f"{source}: {TOO_DEEP}"]) from None
    except json.JSONDecodeError as exc:
        raise DataError(source, [f"{source}:{exc.lineno}: broken JSON at column {exc.colno}: {exc.msg}"]) from None
    return data if isinstance(data, list) else [data]
