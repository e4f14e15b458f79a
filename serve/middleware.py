"""One ASGI layer around every request: request id, body size limit, access log line, request metrics."""

from __future__ import annotations

import json
import logging
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from framelens.serve.context import REQUEST_ID_HEADER, current_request_id, remember, request_id_from
from framelens.serve.metrics import Metrics

log = logging.getLogger("framelens.http")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        detail = f"the request body is over {limit:,} bytes (FRAMELENS_MAX_BODY_BYTES): send less per request"
        super().__init__(413, detail)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        request_id = request_id_from(scope["headers"])
        remember(scope, request_id)
        token = current_request_id.set(request_id)
        status = 500
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())
        meter = _BodyMeter(receive, self.max_body_bytes)
        swallow = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, swallow
            if swallow:  # the route's own answer, which a 413 took the place of
                return
            if message["type"] == "http.response.start":
                if meter.exceeded and message["status"] != 413:
                    # The body grew past the limit, whatever the route made of that (a parser's 400, say).
                    await _reply(send_with_id, 413, "content_too_large", BodyTooLarge(self.max_body_bytes).detail)
                    swallow = True
                    return
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            problem = self._length_problem(scope)
            if problem is not None:
                await _reply(send_with_id, *problem)
                return
            await self.app(scope, meter.receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            seconds = time.perf_counter() - began
            self.metrics.observe_request(route, scope["method"], status, seconds)
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                extra={"request_id": request_id},
            )
            current_request_id.reset(token)

    def _length_problem(self, scope: Scope) -> tuple[int, str, str] | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    return 400, "bad_request", "the Content-Length header is not a number"
                if int(value) > self.max_body_bytes:
                    return 413, "content_too_large", BodyTooLarge(self.max_body_bytes).detail
        return None


class _BodyMeter:
    """The request body as it arrives, counted: past the limit it raises BodyTooLarge (a chunked body has no
    Content-Length to check up front), and remembers that it did."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive, self.limit = receive, limit
        self.seen = 0
        self.exceeded = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge(self.limit)
        return message


async def _reply(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
