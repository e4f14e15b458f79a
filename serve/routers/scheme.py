"""GET /v1/scheme: the labels the served model predicts, with their descriptions and thresholds."""

from __future__ import annotations

from fastapi import APIRouter

from framelens.serve.deps import PredictorDep, ReadAccess
from framelens.serve.schemas import FrameInfo, SchemeOut, StanceInfo, errors

router = APIRouter(tags=["scheme"])


@router.get(
    "/v1/scheme",
    response_model=SchemeOut,
    dependencies=[ReadAccess],
    responses=errors(401, 403, 503),
    summary="Frames and stance labels of the served model",
)
def scheme(predictor: PredictorDep) -> SchemeOut:
    s = predictor.scheme
    thresholds = predictor.artifact.calibration.thresholds
    stance = None
    if s.has_stance:
        stance = StanceInfo(
            labels=list(s.stance_labels), targets=list(s.default_targets), descriptions=dict(s.stance_descriptions)
        )
    return SchemeOut(
        name=s.name,
        description=s.description,
        frames=[
            FrameInfo(name=f.name, description=f.description, threshold=thresholds.get(f.name, 0.5)) for f in s.frames
        ],
        stance=stance,
        model_version=predictor.version,
    )
