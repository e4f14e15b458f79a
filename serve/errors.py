"""Every failure answers JSON `{"error": code, "detail": what to fix}`; user input never yields a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from framelens.model.errors import FramelensError
from framelens.serve.batcher import ModelNotReady
from framelens.serve.context import REQUEST_ID_HEADER, request_id_of

log = logging.getLogger("framelens.http")
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "content_too_large"}


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def error_response(
    request: Request, status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    all_headers = {REQUEST_ID_HEADER: request_id_of(request.scope), **(headers or {})}
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=all_headers)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] == "body" else [str(p) for p in loc]
    text = ""
    for p in parts:
        text += f"[{p}]" if p.isdigit() else (f".{p}" if text else p)
    return text or "the body"


def describe_validation(errors: list[Any]) -> tuple[int, str, str]:
    """Pydantic's errors -> (status, code, one readable message naming each field and the fix)."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "broken JSON")
        example = '{"text": "…"}'
        return 400, "invalid_json", f"the body is not valid JSON ({reason}): send a JSON object such as {example}"
    if first.get("loc") == ("body",) and isinstance(first.get("input"), bytes):
        return (
            415,
            "unsupported_media_type",
            "send the body as JSON with the header 'Content-Type: application/json'",
        )
    messages = []
    for e in errors[:10]:
        where, kind, msg = _where(tuple(e.get("loc", ()))), e.get("type", ""), str(e.get("msg", ""))
        if kind == "missing" and where == "the body":
            messages.append("the body is empty: send a JSON object")
        elif where == "the body" and kind in ("model_attributes_type", "model_type", "dict_type"):
            messages.append('the body must be a JSON object such as {"text": "…"}')
        elif kind == "missing":
            messages.append(f"{where} is required")
        elif kind == "extra_forbidden":
            messages.append(f"{where} is not a known field: see the request schema at /docs")
        elif kind == "string_too_short" and (e.get("ctx") or {}).get("min_length") == 1:
            messages.append(f"{where} is empty: send non-empty text")
        elif kind == "string_pattern_mismatch" and (e.get("ctx") or {}).get("pattern") == r"\S":
            messages.append(f"{where} is only whitespace: send non-empty text")
        else:
            messages.append(f"{where}: {msg.removeprefix('Value error, ')}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return 422, "invalid_request", "; ".join(messages) + more


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, detail = describe_validation(list(exc.errors()))
        return error_response(request, status, code, detail)

    @app.exception_handler(FramelensError)
    async def framelens_error(request: Request, exc: FramelensError) -> JSONResponse:
        return error_response(request, 422, "invalid_input", str(exc))

    @app.exception_handler(ModelNotReady)
    async def not_ready(request: Request, exc: ModelNotReady) -> JSONResponse:
        detail = f"no model is served yet ({exc}); see /readyz"
        return error_response(request, 503, "model_not_ready", detail, {"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = str(exc.detail)
        if exc.status_code == 404:
            detail = f"no route {request.method} {request.url.path}: see /docs for the API"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}: see /docs for the methods it takes"
        return error_response(request, exc.status_code, code, detail, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id_of(request.scope)
        log.error("request %s failed", rid, exc_info=exc, extra={"request_id": rid})
        detail = f"the server failed on this request (request id {rid}); the error is logged"
        return error_response(request, 500, "internal_error", detail)
