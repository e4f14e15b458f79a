"""The web page at `/`: serve/page/ (index.html, its ES modules and stylesheet) under a strict Content-Security-Policy.

The page holds no data, so it needs no key even where reads do; what it shows comes from the API, with the key
the reader gives it."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from dataclasses import dataclass
from importlib.resources import files

from fastapi import APIRouter, Request, Response

from framelens.serve.errors import ApiError

router = APIRouter(tags=["page"], include_in_schema=False)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@functools.cache
def assets() -> dict[str, Asset]:
    """The page's files by name, read once from the package (they ship in the wheel as package data)."""
    found = {}
    for entry in files("framelens.serve").joinpath("page").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in MEDIA_TYPES:
            body = entry.read_bytes()
            found[entry.name] = Asset(body, MEDIA_TYPES[suffix], '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return found


async def _answer(request: Request, name: str) -> Response:
    # The first request reads the files in a worker thread; afterwards they are in memory and need no thread.
    found = assets() if assets.cache_info().currsize else await asyncio.to_thread(assets)
    asset = found.get(name)
    if asset is None:
        raise ApiError(404, "not_found", f"the page has no file {name!r}: open / for the page")
    # Revalidated on every load (a new release shows at once); an unchanged file costs a 304 and no body.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache", "ETag": asset.etag}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/")
async def index(request: Request) -> Response:
    return await _answer(request, "index.html")


@router.get("/page/{name}")
async def page_file(name: str, request: Request) -> Response:
    return await _answer(request, name)
