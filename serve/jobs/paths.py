"""A scoring job's server-side path: under FRAMELENS_JOBS_ROOT wherever its links lead, and usable by the file
system; every refusal is a 4xx whose detail names the fix. Blocking (it asks the file system): call off the loop."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from framelens.serve.errors import ApiError
from framelens.serve.jobs.schemas import PathJob
from framelens.serve.scoring.archives import ARCHIVE_SUFFIXES, FORMATS, TABLE_SUFFIXES, TEXT_SUFFIXES, kind_of
from framelens.serve.settings import Settings

UPLOADS = (*TABLE_SUFFIXES, *TEXT_SUFFIXES, *ARCHIVE_SUFFIXES)


def server_path(body: bytes, settings: Settings) -> tuple[Path, str, dict[str, Any]]:
    """The JSON body of a path job -> (the archive, resolved; its name under the root; the job's options)."""
    try:
        job = PathJob.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    if settings.jobs_root is None:
        raise ApiError(
            403,
            "path_jobs_disabled",
            "this server takes no server-side paths: upload the archive, or start it with FRAMELENS_JOBS_ROOT set",
        )
    root = settings.jobs_root.resolve()
    shown = job.path if len(job.path) <= 80 else job.path[:77] + "…"
    try:
        archive = (root / job.path).resolve()  # an absolute path replaces root; resolving follows links
        if not archive.is_relative_to(root):  # the resolved target counts: a link out of the root is refused
            raise ApiError(403, "path_outside_root", f"{shown!r} is outside the jobs root: name a path under it")
        if not archive.exists():
            raise ApiError(404, "no_such_archive", f"nothing at {shown!r} under the jobs root: check the path")
        is_file = archive.is_file()
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a loop of links; ValueError: a NUL byte
        raise ApiError(422, "bad_path", path_problem(shown, exc)) from None
    if is_file and kind_of(archive.name) not in UPLOADS:
        raise ApiError(415, "unsupported_archive", f"{shown!r} is not an archive framelens reads: use {FORMATS}")
    if job.targets and len(job.targets) > settings.max_targets:
        raise ApiError(422, "too_many_targets", f"targets: send at most {settings.max_targets} (FRAMELENS_MAX_TARGETS)")
    options = {"targets": list(dict.fromkeys(t.strip() for t in job.targets or [] if t.strip())) or None}
    return archive, archive.relative_to(root).as_posix() or ".", {**options, "evidence": job.evidence}


def path_problem(path: str, exc: Exception) -> str:
    """Why the file system refused a path, and what to send instead."""
    code = getattr(exc, "errno", None)
    if code == errno.ENAMETOOLONG:
        return (
            f"{path!r} is too long for the file system (a name over 255 bytes, or the whole path over 4,096): "
            "name a shorter path under the jobs root"
        )
    if code == errno.ELOOP or isinstance(exc, RuntimeError):
        return f"{path!r} leads into a loop of symbolic links: fix the link, or name the archive itself"
    if isinstance(exc, ValueError):
        return f"{path!r} is not a usable path ({exc}): name a path without NUL characters"
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"{path!r} cannot be used on the server ({reason}): name another path under the jobs root"
