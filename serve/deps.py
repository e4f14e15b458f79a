"""Dependencies of the routes, as `Annotated` aliases: settings, the served predictor, batcher, registry, keys.

All are `async def`: they only read app state, and FastAPI runs a plain `def` dependency on a worker thread, a
thread hop each. The hot route, /v1/classify, takes one (`ScoringDep`) in place of four."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from framelens.model.predictor import Predictor
from framelens.serve.auth import check_key, key_from_headers
from framelens.serve.batcher import Batcher, ModelNotReady
from framelens.serve.metrics import Metrics
from framelens.serve.model_holder import ModelHolder
from framelens.serve.settings import Settings
from framelens.training.registry import Registry

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer YOUR_KEY")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: YOUR_KEY")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.holder
    return holder


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_batcher(request: Request) -> Batcher:
    batcher: Batcher = request.app.state.batcher
    return batcher


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def get_activation_lock(request: Request) -> asyncio.Lock:
    lock: asyncio.Lock = request.app.state.activation_lock
    return lock


def _served(holder: ModelHolder) -> Predictor:
    predictor = holder.current()
    if predictor is None:
        raise ModelNotReady(holder.problem or "the model is loading")
    return predictor


def _check_read_key(settings: Settings, authorization: str | None, x_api_key: str | None) -> None:
    """Reads are open unless FRAMELENS_REQUIRE_KEY_FOR_READS is set (then they take the same keys as writes)."""
    if settings.require_key_for_reads:
        check_key(settings, key_from_headers(authorization, x_api_key))


async def get_predictor(holder: Annotated[ModelHolder, Depends(get_holder)]) -> Predictor:
    return _served(holder)


SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
BatcherDep = Annotated[Batcher, Depends(get_batcher)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
ActivationLockDep = Annotated[asyncio.Lock, Depends(get_activation_lock)]
PredictorDep = Annotated[Predictor, Depends(get_predictor)]


async def require_write_key(
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> None:
    check_key(settings, api_key or (bearer.credentials if bearer else None))


async def require_read_key(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    _check_read_key(settings, authorization, x_api_key)


WriteAccess = Depends(require_write_key)
ReadAccess = Depends(require_read_key)


@dataclass(frozen=True, slots=True)
class Scoring:
    """What a scoring route reads from app state, with the read-key check done."""

    settings: Settings
    predictor: Predictor
    batcher: Batcher


async def get_scoring(request: Request) -> Scoring:
    """`ReadAccess`, `SettingsDep`, `PredictorDep` and `BatcherDep` as one dependency: /v1/classify is the hot
    route, and each dependency FastAPI solves is work on the event loop per request (at 32 clients on 2 cores the
    loop's dependency solving was ~19% of its Python). The key headers stay out of the OpenAPI schema, as in
    `require_read_key`."""
    state = request.app.state
    settings: Settings = state.settings
    headers = request.headers
    _check_read_key(settings, headers.get("authorization"), headers.get("x-api-key"))
    return Scoring(settings, _served(state.holder), state.batcher)


ScoringDep = Annotated[Scoring, Depends(get_scoring)]
