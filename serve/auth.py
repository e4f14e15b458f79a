"""API keys: stored as SHA-256 hex digests; sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`."""

from __future__ import annotations

import hashlib
import hmac

from framelens.serve.errors import ApiError
from framelens.serve.settings import Settings


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip() or None
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return None


def check_key(settings: Settings, key: str | None) -> None:
    """401 when no key is sent, 403 when it is wrong or when the server has no keys at all (never open)."""
    hashes = settings.key_hashes
    if not hashes:
        raise ApiError(
            403,
            "no_api_keys_configured",
            "this server has no API keys, so this route is closed: run `framelens hash-key YOUR_KEY` and start "
            "the server with FRAMELENS_API_KEY_HASHES set to the printed hash",
        )
    if key is None:
        raise ApiError(
            401,
            "missing_api_key",
            "this route needs an API key: send 'Authorization: Bearer YOUR_KEY' or 'X-API-Key: YOUR_KEY'",
            {"WWW-Authenticate": "Bearer"},
        )
    digest = hash_key(key)
    if not any(hmac.compare_digest(digest, known) for known in hashes):
        raise ApiError(403, "invalid_api_key", "this API key is not accepted here: check it or ask for a valid one")
