"""POST /v1/train (start a gated retrain in the background), GET /v1/train and GET /v1/train/{id} (its progress)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request

from framelens.model.errors import FramelensError
from framelens.serve.deps import ReadAccess, RegistryDep, WriteAccess
from framelens.serve.errors import ApiError
from framelens.serve.retrain_schemas import TrainJobOut, TrainJobsOut, TrainRequest
from framelens.serve.retraining import Retrainer
from framelens.serve.schemas import errors
from framelens.training.train_jobs import JobBusy

router = APIRouter(tags=["train"])
JobId = Annotated[str, Path(min_length=1, max_length=100, description="a job id from POST /v1/train")]


def _retrainer(request: Request) -> Retrainer:
    retrainer: Retrainer = request.app.state.retrainer
    return retrainer


@router.post(
    "/v1/train",
    response_model=TrainJobOut,
    status_code=202,
    dependencies=[WriteAccess],
    responses=errors(400, 401, 403, 409, 415, 422),
    summary="Retrain on the seeds plus the stored examples, in the background; promoted only if the gate passes",
)
async def start_training(request: Request, registry: RegistryDep, body: TrainRequest | None = None) -> TrainJobOut:
    body = body or TrainRequest.model_validate({})
    if await asyncio.to_thread(registry.active) is None:
        raise ApiError(409, "no_active_model", "no model is active: train one first (`framelens train`)")
    retrainer = _retrainer(request)
    try:
        job = await retrainer.start(retrainer.request_for(body.init_from, body.epochs, body.promote))
    except JobBusy as exc:
        raise ApiError(409, "training_in_progress", str(exc)) from None
    return TrainJobOut.model_validate(await asyncio.to_thread(retrainer.describe, job))


@router.get(
    "/v1/train",
    response_model=TrainJobsOut,
    dependencies=[ReadAccess],
    responses=errors(401, 403),
    summary="The most recent retrain jobs, newest first",
)
def list_jobs(request: Request) -> TrainJobsOut:
    retrainer = _retrainer(request)
    return TrainJobsOut(jobs=[TrainJobOut.model_validate(retrainer.describe(j)) for j in retrainer.jobs.recent()])


@router.get(
    "/v1/train/{job_id}",
    response_model=TrainJobOut,
    dependencies=[ReadAccess],
    responses=errors(401, 403, 404, 422),
    summary="A retrain job: state, phase, progress, the gate's decision when done, and the tail of its log",
)
def get_job(job_id: JobId, request: Request) -> TrainJobOut:
    retrainer = _retrainer(request)
    try:
        job = retrainer.jobs.get(job_id)
    except FramelensError as exc:
        raise ApiError(404, "unknown_job", str(exc)) from None
    return TrainJobOut.model_validate(retrainer.describe(job))
