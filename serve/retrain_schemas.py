"""Bodies of the retraining routes: labelled examples, imports, retrain jobs, the gate's decision."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(protected_namespaces=())


class GateCheck(_Body):
    metric: str
    candidate: float
    active: float
    change: float
    allowed_drop: float
    ok: bool


class GateOut(_Body):
    promote: bool = Field(description="whether the candidate passed the gate")
    compared_with: str | None = Field(description="the version that was active when the candidate was gated")
    reasons: list[str]
    checks: list[GateCheck] = Field(description="each compared test-split figure, candidate beside active")


class InvalidExamples(_Body):
    error: str
    detail: str
    problems: list[str] = Field(description="one line per problem: source:line: field: what to fix")


class ExamplesAdded(_Body):
    upload: str
    added: int = Field(description="passages new to the store")
    replaced: int = Field(description="passages whose id was stored already: their labels were replaced")
    total: int = Field(description="passages in the store now")


class SkippedItem(_Body):
    where: str
    reason: str


class ImportOut(_Body):
    format: str
    kept: int
    skipped: int
    skipped_by_reason: dict[str, int]
    skipped_items: list[SkippedItem] = Field(description="the first 200 skipped items with the reason for each")
    ignored_controls: dict[str, int] = Field(description="controls that are neither `frames` nor `stance_<Target>`")
    stored: ExamplesAdded


class ExampleStats(_Body):
    total: int
    frames: dict[str, int]
    no_frame: int = Field(description="passages labelled with no frame")
    frames_unlabelled: int = Field(description="passages whose frames were not labelled (stance only)")
    stance: dict[str, dict[str, int]] = Field(description="target -> label -> passages")
    splits: dict[str, int]


class TrainRequest(_Body):
    model_config = ConfigDict(extra="forbid")

    init_from: Literal["active", "base"] = Field(
        "active", description="continue from the active model, or start again from its base encoder"
    )
    epochs: int | None = Field(None, ge=1, le=50, description="default: the epochs the active version used")
    promote: bool = Field(True, description="false: train and gate the candidate but never activate it")


class TrainJobOut(_Body):
    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    phase: str = Field(description="queued, loading, training, gate, exporting, promoting, done")
    progress: float = Field(description="0 to 1")
    request: dict[str, Any]
    result: dict[str, Any] | None = Field(description="version, promoted and the gate's decision, when done")
    error: str | None
    pid: int | None = Field(description="the training process, while the job runs")
    created: float
    started: float | None
    finished: float | None
    log_tail: str = Field(description="the last lines of the training log")


class TrainJobsOut(_Body):
    jobs: list[TrainJobOut]
