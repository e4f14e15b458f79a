"""Uploaded files in a request body: raw JSON, JSON Lines, CSV or text, or a multipart form with a `file` field."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from framelens.model.errors import DataError
from framelens.serve.context import REQUEST_ID_HEADER, request_id_of
from framelens.serve.errors import ApiError

_SUFFIX = {
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/jsonlines": ".jsonl",
    "text/csv": ".csv",
    "text/plain": ".txt",
}

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the file itself as the body (its Content-Type says how to read it), "
        "or a multipart form with the file in a field named `file`",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


async def read_upload(request: Request, name: str = "upload") -> tuple[str, str, str]:
    """(text, suffix, source name): the suffix (.json, .jsonl, .csv, .txt) tells the caller how to parse it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "missing_file", "send the file in a multipart form field named 'file'")
        filename = upload.filename or name
        raw = await upload.read()
        suffix = (
            "." + filename.rsplit(".", 1)[-1].lower()
            if "." in filename
            else _SUFFIX.get((upload.content_type or "").split(";")[0], ".jsonl")
        )
        return _decode(raw), suffix, filename
    if kind not in _SUFFIX:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"cannot read a {kind or 'body without a Content-Type'}: send application/json, "
            "application/x-ndjson, text/csv or text/plain, or a multipart form with a 'file' field",
        )
    raw = await request.body()
    if not raw.strip():
        raise ApiError(422, "empty_upload", "the body is empty: send the file's content")
    return _decode(raw), _SUFFIX[kind], name


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "not_utf8", f"byte {exc.start} of the upload is not UTF-8: save the file as UTF-8"
        ) from None


def invalid_examples(request: Request, error: DataError, code: str = "invalid_examples") -> JSONResponse:
    """422 with one line per problem (source:line: field: fix), for an upload that was refused whole."""
    detail = f"{len(error.problems)} problem(s); nothing was stored: fix them and send the upload again"
    return JSONResponse(
        {"error": code, "detail": detail, "problems": error.problems[:500]},
        status_code=422,
        headers={REQUEST_ID_HEADER: request_id_of(request.scope)},
    )
