"""GET /healthz (the process answers) and GET /readyz (a model is loaded and served)."""

from __future__ import annotations

from fastapi import APIRouter

from framelens.serve.deps import HolderDep
from framelens.serve.errors import ApiError
from framelens.serve.schemas import Health, Ready, errors

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=errors(503), summary="Readiness: a model is served")
def readyz(holder: HolderDep) -> Ready:
    version = holder.version
    if version is None:
        raise ApiError(503, "not_ready", f"no model is served yet: {holder.problem or 'the model is loading'}")
    return Ready(status="ready", model_version=version)
