"""Scoring jobs: POST /v1/jobs (upload or server path), GET /v1/jobs/{id}, GET .../results, DELETE cancels."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from starlette.datastructures import FormData, UploadFile

from framelens.serve.deps import ReadAccess, SettingsDep, WriteAccess
from framelens.serve.errors import ApiError
from framelens.serve.jobs.paths import UPLOADS, server_path
from framelens.serve.jobs.schemas import JobOut, PathJob, job_out
from framelens.serve.jobs.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, UNFINISHED, Job, JobStore
from framelens.serve.jobs.worker import JobWorker
from framelens.serve.middleware import BodyTooLarge
from framelens.serve.predictors import PredictorFactory
from framelens.serve.schemas import errors
from framelens.serve.scoring.archives import FORMATS, kind_of
from framelens.serve.scoring.limits import ArchiveLimits
from framelens.serve.scoring.output import errors_path
from framelens.serve.settings import Settings
from framelens.training.registry import Registry


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    jobs_dir = settings.jobs_dir or settings.home / "jobs"
    store = await asyncio.to_thread(JobStore, jobs_dir / "jobs.sqlite3")
    worker = JobWorker(
        store,
        jobs_dir,
        Registry(settings.home),
        settings.jobs_chunk_size,
        PredictorFactory.from_settings(settings),
        ArchiveLimits.from_settings(settings),
        settings.jobs_root.resolve() if settings.jobs_root is not None else None,
    )
    app.state.jobs, app.state.job_worker = store, worker
    await asyncio.to_thread(worker.start)  # jobs left unfinished by the last run resume
    try:
        yield
    finally:
        await asyncio.to_thread(worker.stop)


router = APIRouter(tags=["jobs"], lifespan=_lifespan)
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
JobId = Annotated[str, PathParam(min_length=1, max_length=64, description="the id POST /v1/jobs answered")]
_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": FORMATS},
                    "targets": {"type": "string", "description": "comma-separated stance targets"},
                    "evidence": {"type": "boolean", "default": True},
                },
            }
        },
        "application/json": {"schema": PathJob.model_json_schema()},
    },
}


async def get_worker(request: Request) -> JobWorker:
    worker: JobWorker = request.app.state.job_worker
    return worker


WorkerDep = Annotated[JobWorker, Depends(get_worker)]


@router.post(
    "/v1/jobs",
    status_code=202,
    response_model=JobOut,
    dependencies=[WriteAccess],
    responses=errors(400, 401, 403, 404, 413, 415, 422, 503),
    openapi_extra={"requestBody": _BODY},
    summary="Score an archive in the background: upload it (multipart 'file') or name a path under the jobs root",
)
async def create_job(request: Request, settings: SettingsDep, worker: WorkerDep) -> JobOut:
    version = settings.version or await asyncio.to_thread(Registry(settings.home).active)
    if version is None:
        raise ApiError(503, "model_not_ready", "no active model to score with: train or activate one first")
    job_id = JobStore.new_id()
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        archive, name, options = await _upload(request, worker.folder(job_id), settings)
    elif content_type.startswith("application/json"):
        archive, name, options = await asyncio.to_thread(server_path, await request.body(), settings)
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            'upload the archive as multipart/form-data (field "file"), or send JSON {"path": "…"} naming an '
            "archive under the server's jobs root",
        )
    try:
        job = await asyncio.to_thread(worker.store.create, archive, name, options, version, job_id)
    except BaseException:  # no half-made job: its upload goes too
        await asyncio.to_thread(worker.discard, job_id)
        raise
    worker.wake()
    return job_out(job, None)


async def _upload(request: Request, folder: Path, settings: Settings) -> tuple[Path, str, dict[str, Any]]:
    try:
        form = await request.form(max_files=1, max_fields=8)
    except BodyTooLarge:  # over FRAMELENS_MAX_BODY_BYTES, found while reading: the 413 stands
        raise
    except Exception as exc:  # Starlette raises several types for a malformed multipart body
        raise ApiError(400, "bad_request", f"the multipart body cannot be read ({exc}): send a 'file' field") from exc
    try:
        return await _keep_upload(form, folder, settings)
    finally:
        await form.close()


async def _keep_upload(form: FormData, folder: Path, settings: Settings) -> tuple[Path, str, dict[str, Any]]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ApiError(422, "missing_file", "no file uploaded: send the archive in the multipart field 'file'")
    name = Path(upload.filename.replace("\\", "/")).name
    if kind_of(name) not in UPLOADS:
        raise ApiError(415, "unsupported_archive", f"{name!r} is not an archive framelens reads: send {FORMATS}")
    targets = form.get("targets")
    chosen = [t.strip() for t in targets.split(",") if t.strip()] if isinstance(targets, str) else []
    if len(chosen) > settings.max_targets or any(len(t) > 200 for t in chosen):
        limit = f"at most {settings.max_targets} (FRAMELENS_MAX_TARGETS), each up to 200 characters"
        raise ApiError(422, "too_many_targets", f"targets: send {limit}")
    options = {
        "targets": list(dict.fromkeys(chosen)) or None,
        "evidence": str(form.get("evidence", "true")).lower() not in ("false", "0", "no"),
    }
    # Kept under its own name (made safe for the file system), so errors and ids read news.jsonl:12.
    safe = _SAFE.sub("_", name)
    archive = folder / "upload" / (safe if len(safe) <= 200 else safe[-200:])  # a file name may have 255 bytes
    try:
        await asyncio.to_thread(_save, upload, archive)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, folder, True)
        raise
    return archive, name, options


def _save(upload: UploadFile, archive: Path) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with archive.open("wb") as handle:
        shutil.copyfileobj(upload.file, handle)


def _job(worker: JobWorker, job_id: str) -> Job:
    job = worker.store.get(job_id)
    if job is None:
        raise ApiError(404, "unknown_job", f"no job {job_id!r}: use the id that POST /v1/jobs answered")
    return job


def _errors_file(worker: JobWorker, job: Job) -> Path:
    final = errors_path(worker.results(job.id))
    return final if final.is_file() else worker.results(job.id).with_name("results.jsonl.partial") / "errors.jsonl"


@router.get(
    "/v1/jobs/{job_id}",
    response_model=JobOut,
    dependencies=[ReadAccess],
    responses=errors(401, 403, 404, 422),
    summary="A job's state, progress, counts and first errors",
)
def get_job(job_id: JobId, worker: WorkerDep) -> JobOut:
    job = _job(worker, job_id)
    return job_out(job, _errors_file(worker, job))


@router.get(
    "/v1/jobs/{job_id}/results",
    dependencies=[ReadAccess],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
        **errors(401, 403, 404, 409, 422),
    },
    summary="The scored articles of a finished job, streamed as JSON Lines",
)
def job_results(job_id: JobId, worker: WorkerDep) -> StreamingResponse:
    job = _job(worker, job_id)
    path = worker.results(job.id)
    if job.state != "done" or not path.is_file():
        hint = "poll GET /v1/jobs/{id} until its state is done" if job.state in UNFINISHED else "it has no results"
        raise ApiError(409, "job_not_done", f"job {job.id} is {job.state}: {hint}")
    return StreamingResponse(_stream(path), media_type="application/x-ndjson")


def _stream(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(1 << 16):
            yield block


@router.delete(
    "/v1/jobs/{job_id}",
    response_model=JobOut,
    dependencies=[WriteAccess],
    responses=errors(401, 403, 404, 422),
    summary="Cancel a job and discard its files (a running job stops after its current chunk)",
)
def cancel_job(job_id: JobId, worker: WorkerDep) -> JobOut:
    job = _job(worker, job_id)
    message = "cancelled by DELETE"
    # Each move is atomic, so a job the worker picks up meanwhile is caught by the second one.
    if worker.store.move(job.id, CANCELLED, message, only_from=(QUEUED, DONE, FAILED)):
        worker.discard(job.id)
    else:  # running: the worker stops after its chunk and discards the files itself
        worker.store.move(job.id, CANCELLED, message, only_from=(RUNNING,))
    return job_out(_job(worker, job_id), None)
