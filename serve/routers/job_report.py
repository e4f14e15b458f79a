"""GET /v1/jobs/{id}/report: the trend report of a finished job, as `framelens report` writes it, made once.

The report is written into the job's folder on first request and served from there afterwards (a job's results
never change once it is done; cancelling the job discards both)."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from framelens.model.errors import FramelensError
from framelens.serve.deps import ReadAccess
from framelens.serve.errors import ApiError
from framelens.serve.jobs.store import DONE, UNFINISHED, Job
from framelens.serve.jobs.worker import JobWorker
from framelens.serve.report.html import write_report
from framelens.serve.routers.jobs import JobId, WorkerDep
from framelens.serve.schemas import errors

router = APIRouter(tags=["jobs"])
REPORT = "report.html"  # its charts are written beside it as report-<chart>.png, which the report links to
# The report keeps its CSS inline and its charts as data: URLs so that it also opens from disk; this policy allows
# exactly that, and no script at all.
REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
Chart = Annotated[str, PathParam(pattern=r"^[a-z][a-z-]{0,40}$", description="a chart's name, e.g. frames-overall")]
_writing = threading.Lock()  # matplotlib's pyplot is not thread-safe, and one report is written once


@router.get(
    "/v1/jobs/{job_id}/report",
    dependencies=[ReadAccess],
    response_class=Response,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}, **errors(401, 403, 404, 409, 422)},
    summary="The trend report of a finished job: frame shares and stance over time and by outlet, as HTML",
)
async def job_report(job_id: JobId, worker: WorkerDep) -> Response:
    page = await asyncio.to_thread(_report, worker, job_id)  # SQLite, matplotlib and the disk: off the event loop
    return Response(page, media_type="text/html; charset=utf-8", headers=REPORT_HEADERS)


@router.get("/v1/jobs/{job_id}/report-{chart}.png", dependencies=[ReadAccess], include_in_schema=False)
def report_chart(job_id: JobId, chart: Chart, worker: WorkerDep) -> FileResponse:
    path = worker.folder(_done(worker, job_id).id) / f"report-{chart}.png"
    if not path.is_file():
        raise ApiError(404, "unknown_chart", f"job {job_id} has no chart {chart!r}: open its report first")
    return FileResponse(path, media_type="image/png", headers=REPORT_HEADERS)


def _done(worker: JobWorker, job_id: str) -> Job:
    job = worker.store.get(job_id)
    if job is None:
        raise ApiError(404, "unknown_job", f"no job {job_id!r}: use the id that POST /v1/jobs answered")
    if job.state != DONE or not worker.results(job.id).is_file():
        hint = "poll GET /v1/jobs/{id} until its state is done" if job.state in UNFINISHED else "it has no results"
        raise ApiError(409, "job_not_done", f"job {job.id} is {job.state}: {hint}")
    return job


def _report(worker: JobWorker, job_id: str) -> bytes:
    job = _done(worker, job_id)
    out = worker.folder(job.id) / REPORT
    with _writing:
        if not out.is_file():
            try:
                write_report(worker.results(job.id), out, title=f"Framing and stance trends: {job.name}")
            except FramelensError:
                detail = f"job {job.id} scored no articles (every record was an error): there is nothing to report"
                raise ApiError(409, "nothing_to_report", detail) from None
    return out.read_bytes()
