"""Request and response bodies of the jobs routes (part of the OpenAPI schema at /docs)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from framelens.serve.jobs.store import Job
from framelens.serve.schemas import Target

MAX_ERRORS_SHOWN = 20


class PathJob(BaseModel):
    """Score an archive that is already on the server, under FRAMELENS_JOBS_ROOT."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"path": "archives/2023-q4.jsonl", "targets": ["Ukraine", "Russia"]}]},
    )

    path: str = Field(min_length=1, max_length=4096, description="relative to FRAMELENS_JOBS_ROOT (or absolute in it)")
    targets: list[Target] | None = Field(None, max_length=16, description="stance targets; default: the scheme's")
    evidence: bool = Field(True, description="keep the sentences that drove each label")


class JobProgress(BaseModel):
    done: int = Field(description="archive items done (scored or sent to the errors)")
    total: int | None = Field(description="items in the archive, once counted")
    fraction: float | None


class JobCounts(BaseModel):
    scored: int
    errors: int
    windows: int = Field(description="windows (passages) read by the model")


class JobError(BaseModel):
    where: str = Field(description="file:line, or the member of the archive")
    reason: str


class JobOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: str
    state: str = Field(description="queued, running, done, failed or cancelled")
    name: str = Field(description="the uploaded file's name, or the path under the jobs root")
    model_version: str
    created: str
    updated: str
    message: str | None = Field(description="why it failed, or why it was requeued")
    progress: JobProgress
    counts: JobCounts
    errors: list[JobError] = Field(description=f"the first {MAX_ERRORS_SHOWN} records that could not be scored")
    results: str = Field(description="where the results are streamed from, once the job is done")


def job_out(job: Job, errors_file: Path | None) -> JobOut:
    fraction = min(job.consumed / job.total, 1.0) if job.total else (1.0 if job.state == "done" else None)
    return JobOut(
        id=job.id,
        state=job.state,
        name=job.name,
        model_version=job.model_version,
        created=_iso(job.created),
        updated=_iso(job.updated),
        message=job.message,
        progress=JobProgress(done=job.consumed, total=job.total, fraction=fraction),
        counts=JobCounts(scored=job.scored, errors=job.errors, windows=job.windows),
        errors=_first_errors(errors_file) if errors_file is not None and job.errors else [],
        results=f"/v1/jobs/{job.id}/results",
    )


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _first_errors(path: Path) -> list[JobError]:
    shown: list[JobError] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if len(shown) >= MAX_ERRORS_SHOWN:
                    break
                try:  # the last line of a part being written may be incomplete: skip it
                    row = json.loads(line)
                    shown.append(JobError(where=str(row["where"]), reason=str(row["reason"])))
                except (ValueError, KeyError):
                    continue
    except OSError:
        return []
    return shown
