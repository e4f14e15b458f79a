"""Settings from the environment (FRAMELENS_*), shared by the CLI and the HTTP service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from framelens.model.scheme import SEEDS_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRAMELENS_", extra="ignore")

    home: Path = Path("models")  # the model registry: versions/ and active.json
    threads: Annotated[int, Field(ge=1)] = 2  # torch / ONNX Runtime intra-op threads
    # What scores: "auto" is the fastest backend that passed the version's parity check against torch (checked
    # and recorded beside the version on first use); or "torch", "onnx-fp32", "onnx-int8".
    backend: Literal["auto", "torch", "onnx-fp32", "onnx-int8"] = "auto"
    device: str | None = None  # torch's device ("cpu", "cuda", "cuda:1"); unset: CUDA when present, else the CPU
    host: str = "127.0.0.1"
    port: int = 8000
    workers: Annotated[int, Field(ge=1)] = 1
    # Longer than clients' idle-connection expiry (httpx: 5 s), so the server never closes a connection that a
    # client is just reusing (that race shows up as a client-side read error under load).
    keep_alive_s: Annotated[int, Field(ge=1)] = 30
    version: str | None = None  # serve this version instead of the active one
    # How often a server looks at the registry's active pointer and follows it when another process moved it
    # (another worker's activation, a promotion, `framelens models activate`); 0: only its own activations.
    follow_active_s: Annotated[float, Field(ge=0)] = 2.0
    # API keys for write routes, as SHA-256 hex digests (comma-separated); see `framelens hash-key`.
    api_key_hashes: str = ""
    require_key_for_reads: bool = False
    max_text_chars: Annotated[int, Field(ge=1)] = 100_000
    max_texts: Annotated[int, Field(ge=1)] = 64
    max_targets: Annotated[int, Field(ge=1)] = 16
    max_body_bytes: Annotated[int, Field(ge=1)] = 8_000_000
    batch_max_size: Annotated[int, Field(ge=1)] = 32  # texts per inference call
    # How long the first request of a batch waits for company. 0: none; requests that arrive while the model runs
    # still share the next call (a 2 ms wait was half the in-process latency of a lone request).
    batch_max_wait_ms: Annotated[float, Field(ge=0)] = 0.0
    # Inference threads, each with its own tokenizer; a second one takes queued work only while the first is busy,
    # building its documents while the first's windows are in the model (serve/batcher.py). On 2 cores, 32
    # clients on int8 went from 0.84x to 0.95-0.99x of offline scoring; a lone request's latency is unchanged.
    inference_lanes: Annotated[int, Field(ge=1)] = 2
    log_level: str = "info"
    # What `framelens bootstrap` trains the default model on, and with which recipe (a training config JSON): the
    # written seeds, the coverage-register passages and the real paragraphs (their frozen test part held out).
    seed_data: list[Path] = [
        SEEDS_DIR / "ukraine-war" / "passages.jsonl",
        SEEDS_DIR / "ukraine-war" / "coverage" / "passages.jsonl",
        SEEDS_DIR / "ukraine-war" / "real" / "paragraphs.jsonl",
    ]
    default_recipe: Path | None = SEEDS_DIR / "ukraine-war" / "recipe.json"
    # A second stage, when a recipe is named (FRAMELENS_HYBRID_RECIPE=seeds/ukraine-war/hybrid-recipe.json): from
    # the first stage's version, on seed_data and these files (the multi-target stance corpus), distilled from the
    # first: heads for Ukraine and Russia and the paired path for any other target. Off by default: over 3 seeds
    # it lowered real-text stance toward Ukraine from 0.819 to 0.787 macro-F1 (README, "Stance toward other targets").
    hybrid_data: list[Path] = [SEEDS_DIR / "ukraine-war" / "targets" / "passages.jsonl"]
    hybrid_recipe: Path | None = None
    default_scheme: str = "ukraine-war"
    # Retraining: the promotion gate's tolerances (F1 may fall at most this much) and the suggestions pool.
    gate_macro_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.01
    gate_frame_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.05
    suggest_pool: Path | None = None  # unlabelled passages (JSONL, CSV or text) that GET /v1/suggestions reads
    suggest_max_pool: Annotated[int, Field(ge=1)] = 5000  # passages scored per suggestions request at most

    # Scoring jobs (POST /v1/jobs): a job may name a server-side archive only under jobs_root (unset: uploads only);
    # jobs, their uploads and results live in jobs_dir (default: HOME/jobs).
    jobs_root: Path | None = None
    jobs_dir: Path | None = None
    jobs_chunk_size: Annotated[int, Field(ge=1)] = 64  # articles per chunk: the unit of progress and of resuming
    # Caps on reading archives (scoring jobs, `framelens score`); a member or line past one is an error row.
    max_member_bytes: Annotated[int, Field(ge=1)] = 256_000_000  # decompressed bytes of one .zip/.tar member
    max_compression_ratio: Annotated[float, Field(ge=1)] = 200.0  # decompressed / compressed bytes
    max_line_bytes: Annotated[int, Field(ge=1)] = 4_000_000  # one JSONL line or CSV record

    @property
    def key_hashes(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.api_key_hashes.split(",") if h.strip())
