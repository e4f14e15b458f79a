"""The HTTP API: `create_app(settings)`; the model is loaded in the lifespan, never at import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI

from framelens.model.errors import FramelensError
from framelens.serve.batcher import Batcher
from framelens.serve.errors import install_error_handlers
from framelens.serve.metrics import Metrics
from framelens.serve.middleware import RequestContextMiddleware
from framelens.serve.model_holder import ModelHolder, follow_active
from framelens.serve.predictors import PredictorFactory
from framelens.serve.retraining import Retrainer
from framelens.serve.routers import (
    classify,
    examples,
    health,
    job_report,
    jobs,
    metrics,
    models,
    page,
    scheme,
    suggestions,
    train,
)
from framelens.serve.settings import Settings
from framelens.training.registry import Registry

log = logging.getLogger("framelens.app")

DESCRIPTION = """Frames (multi-label) and stance per target for news passages, with the evidence sentences.

Reading routes are open unless `FRAMELENS_REQUIRE_KEY_FOR_READS` is set; routes that change the service need an
API key (`Authorization: Bearer KEY` or `X-API-Key: KEY`). Errors answer `{"error": code, "detail": how to fix}`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="framelens", version="0.1.0", description=DESCRIPTION, lifespan=_lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.holder = ModelHolder(factory=PredictorFactory.from_settings(settings))
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, max_body_bytes=settings.max_body_bytes)
    for module in (classify, scheme, models, health, metrics, examples, train, suggestions, jobs, job_report, page):
        app.include_router(module.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    torch.set_num_threads(settings.threads)
    app.state.registry = Registry(settings.home)
    app.state.activation_lock = asyncio.Lock()
    app.state.retrainer = Retrainer(app)
    await asyncio.to_thread(app.state.retrainer.recover)  # a job a dead server left running is marked failed
    batcher = Batcher(
        app.state.holder,
        settings.batch_max_size,
        settings.batch_max_wait_ms,
        app.state.metrics.observe_batch,
        lanes=settings.inference_lanes,
    )
    app.state.metrics.watch_queue(lambda: batcher.pending)
    app.state.batcher = batcher
    batcher.start()
    # Loading runs beside serving, so /healthz answers and /readyz says 503 until the model is in.
    loading = asyncio.create_task(_load_model(app))
    background = [loading]
    if settings.version is None and settings.follow_active_s > 0:  # a pinned version stays put
        follower = follow_active(
            app.state.registry, app.state.holder, app.state.metrics, app.state.activation_lock, settings.follow_active_s
        )
        background.append(asyncio.create_task(follower))
    try:
        yield
    finally:
        for task in background:
            task.cancel()
        await app.state.retrainer.close()
        await asyncio.to_thread(batcher.stop)


async def _load_model(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    registry: Registry = app.state.registry
    holder: ModelHolder = app.state.holder
    async with app.state.activation_lock:  # an activation that arrives meanwhile waits, then wins
        try:
            version = settings.version or await asyncio.to_thread(registry.active)
            if version is None:
                raise FramelensError(
                    f"no active model in {settings.home}: train one (`framelens train` or `make run`), "
                    "or set FRAMELENS_HOME to a registry that has one"
                )
            predictor = await asyncio.to_thread(holder.load, registry.path(version))
        except Exception as exc:
            log.error("no model served: %s", exc)
            holder.fail(str(exc))
            return
        holder.swap(predictor)
        app.state.metrics.set_version(predictor.version)
        log.info("serving model %s from %s", predictor.version, settings.home)
