"""Settings from the environment (FRAMELENS_*), shared by the CLI and the HTTP service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from model.scheme import SEEDS_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRAMELENS_", extra="ignore")

    home: Path = Path("models")  # the model registry: versions/ and active.json
    threads: int = 2
    host: str = "127.0.0.1"
    port: int = 8000
    version: str | None = None  # serve this version instead of the active one
    # API keys for write routes, as SHA-256 hex digests (comma-separated); see `framelens hash-key`.
    api_key_hashes: str = ""
    require_key_for_reads: bool = False
    max_text_chars: int = 100_000
    max_texts: int = 64
    max_body_bytes: int = 8_000_000
    batch_max_size: int = 32
    batch_max_wait_ms: float = 2.0
    seed_data: Path = SEEDS_DIR / "ukraine-war" / "passages.jsonl"
    default_scheme: str = "ukraine-war"
