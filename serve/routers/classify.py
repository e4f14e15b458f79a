"""POST /v1/classify: frames, stance per target and evidence for one or many texts."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from framelens.model.predictor import Predictor
from framelens.serve.batcher import Options
from framelens.serve.deps import ScoringDep
from framelens.serve.errors import ApiError
from framelens.serve.schemas import ClassifyRequest, ClassifyResponse, errors
from framelens.serve.settings import Settings

router = APIRouter(tags=["classify"])


@router.post(
    "/v1/classify",
    response_model=ClassifyResponse,
    responses=errors(400, 401, 403, 413, 415, 422, 503),
    summary="Label passages with frames and stance, with evidence sentences",
)
async def classify(body: ClassifyRequest, scoring: ScoringDep) -> Response:
    texts = body.all_texts
    _check_texts(texts, scoring.settings, single=body.text is not None)
    options = _options(body, scoring.settings, scoring.predictor)
    results = await scoring.batcher.classify(texts, options)
    # With evidence off the core still fills frame evidence from placeholder scores; the API promises none.
    payload = {"model_version": results[0].model_version, "results": [r.to_dict(body.evidence) for r in results]}
    return Response(orjson.dumps(payload), media_type="application/json")


def _check_texts(texts: list[str], settings: Settings, single: bool) -> None:
    if len(texts) > settings.max_texts:
        raise ApiError(
            413,
            "too_many_texts",
            f"{len(texts)} texts in one request; the limit is {settings.max_texts} (FRAMELENS_MAX_TEXTS): "
            "send them in several requests",
        )
    for i, text in enumerate(texts):
        where = "text" if single else f"texts[{i}]"
        if len(text) > settings.max_text_chars:
            raise ApiError(
                413,
                "text_too_long",
                f"{where} has {len(text):,} characters; the limit is {settings.max_text_chars:,} "
                "(FRAMELENS_MAX_TEXT_CHARS): split it into several texts",
            )
        if not text.strip():
            raise ApiError(422, "empty_text", f"{where} is empty or only whitespace: send non-empty text")


def _options(body: ClassifyRequest, settings: Settings, predictor: Predictor) -> Options:
    targets = None
    if body.targets is not None:
        targets = tuple(dict.fromkeys(t.strip() for t in body.targets))
        if "" in targets:
            raise ApiError(422, "empty_target", "a stance target is empty: name a country, policy or person")
        if len(targets) > settings.max_targets:
            raise ApiError(
                422,
                "too_many_targets",
                f"{len(targets)} stance targets; the limit is {settings.max_targets} (FRAMELENS_MAX_TARGETS)",
            )
    frames = predictor.scheme.frame_names
    unknown = sorted(set(body.thresholds or {}) - set(frames))
    if unknown:
        raise ApiError(422, "unknown_frame", f"thresholds name unknown frame(s) {unknown}; the frames are {frames}")
    thresholds = tuple(sorted((body.thresholds or {}).items())) or None
    return Options(targets=targets, evidence=body.evidence, thresholds=thresholds)
