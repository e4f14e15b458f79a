"""GET /v1/models (versions with their metrics) and POST /v1/models/{version}/activate (swap without downtime)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Annotated, Any

from fastapi import APIRouter, Path

from framelens.serve.deps import ActivationLockDep, HolderDep, MetricsDep, ReadAccess, RegistryDep, WriteAccess
from framelens.serve.errors import ApiError
from framelens.serve.model_holder import activate_version
from framelens.serve.retrain_schemas import GateOut
from framelens.serve.schemas import ActivateOut, ModelsOut, VersionOut, errors
from framelens.training.evaluation import summary_line
from framelens.training.gate import read_decision, summary
from framelens.training.registry import Registry

router = APIRouter(tags=["models"])
log = logging.getLogger("framelens.models")

VersionId = Annotated[str, Path(min_length=1, max_length=200, description="a version id from GET /v1/models")]


@router.get(
    "/v1/models",
    response_model=ModelsOut,
    dependencies=[ReadAccess],
    responses=errors(401, 403),
    summary="Model versions in the registry, with their test metrics",
)
def list_models(registry: RegistryDep, holder: HolderDep) -> ModelsOut:
    active, served = registry.active(), holder.version
    versions = [_describe(registry, v, active, served) for v in registry.versions()]
    current = holder.current()
    return ModelsOut(active=active, served=served, backend=current.backend if current else None, versions=versions)


@router.post(
    "/v1/models/{version}/activate",
    response_model=ActivateOut,
    dependencies=[WriteAccess],
    responses=errors(401, 403, 404, 422),
    summary="Serve this version from now on and make it the registry's active one (needs an API key)",
)
async def activate(
    version: VersionId, registry: RegistryDep, holder: HolderDep, metrics: MetricsDep, lock: ActivationLockDep
) -> ActivateOut:
    known = await asyncio.to_thread(registry.versions)
    if version not in known:
        raise ApiError(404, "unknown_version", f"no model version {version!r}; known: {known or 'none'}")
    predictor, previous = await activate_version(version, registry, holder, metrics, lock)
    old = previous.version if previous else None
    log.info("activated model %s (was %s)", version, old)
    return ActivateOut(active=version, served=predictor.version, previous=old)


def _describe(registry: Registry, version: str, active: str | None, served: str | None) -> VersionOut:
    meta: dict[str, Any] = {}
    figures: dict[str, float] = {}
    try:
        meta = registry.metadata(version)
        metrics = json.loads((registry.path(version) / "metrics.json").read_text(encoding="utf-8"))
        line = summary_line(metrics.get("test") or {})
        figures = {k: float(v) for k, v in line.items() if math.isfinite(float(v))}
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged version is listed, not fatal
        log.warning("cannot read the metrics of %s: %s", version, exc)
    decision = read_decision(registry.versions_dir / version)
    return VersionOut(
        version=version,
        scheme=_text(meta.get("scheme")),
        created=_text(meta.get("created")),
        encoder=_text(meta.get("encoder")),
        active=version == active,
        served=version == served,
        metrics=figures,
        gate=GateOut.model_validate(summary(decision)) if decision else None,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
