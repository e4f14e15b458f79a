"""Request and response bodies of the HTTP API (they are the OpenAPI schema at /docs)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from framelens.serve.retrain_schemas import GateOut

Text = Annotated[str, Field(min_length=1, pattern=r"\S")]  # not only whitespace
Target = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Threshold = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(protected_namespaces=())


class ClassifyRequest(_Body):
    """One passage as `text`, or several as `texts`; the other fields are optional."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            # Exactly one of `text` and `texts` (the other absent or null), as the validator below enforces.
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}, "texts": {"type": "null"}}},
                {"required": ["texts"], "properties": {"texts": {"type": "array"}, "text": {"type": "null"}}},
            ],
            "examples": [
                {"text": "Kyiv and Moscow rule out a ceasefire as Western aid stalls in Congress."},
                {"texts": ["First passage.", "Second passage."], "targets": ["Ukraine", "NATO"], "evidence": False},
            ],
        },
    )

    text: Text | None = Field(
        None,
        description="one passage or article, up to FRAMELENS_MAX_TEXT_CHARS (default 100,000) characters; "
        "long texts are read in windows",
    )
    texts: list[Text] | None = Field(
        None, min_length=1, description="several passages (at most FRAMELENS_MAX_TEXTS, default 64), answered in order"
    )
    targets: list[Target] | None = Field(None, description="stance targets; default: the scheme's targets")
    evidence: bool = Field(True, description="return the sentences that drove each label")
    thresholds: dict[str, Threshold] | None = Field(
        None, description='per-frame decision thresholds for this call, e.g. {"military_aid": 0.3}'
    )

    @model_validator(mode="after")
    def _one_of_text_or_texts(self) -> ClassifyRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send either 'text' (one passage) or 'texts' (a list of passages), not both or neither")
        return self

    @property
    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class EvidenceOut(_Body):
    sentence: str
    start: int = Field(description="character offset of the sentence in the text")
    end: int
    score: float


class FrameOut(_Body):
    label: str
    score: float = Field(description="calibrated probability that the text carries this frame")
    predicted: bool = Field(description="score at or above the frame's threshold")
    evidence: list[EvidenceOut]


class StanceOut(_Body):
    label: str
    scores: dict[str, float] = Field(description="calibrated probability of each stance label")
    evidence: list[EvidenceOut]
    seen_in_training: bool = Field(
        description="whether training data labelled this target; false: a target named at request time"
    )


class TextResult(_Body):
    frames: list[FrameOut]
    stance: dict[str, StanceOut] = Field(description="one entry per stance target")
    windows: int = Field(description="how many overlapping windows the text was read in")
    model_version: str


class ClassifyResponse(_Body):
    model_version: str
    results: list[TextResult] = Field(description="one result per text, in the order sent")


class ErrorBody(_Body):
    error: str = Field(description="a short machine-readable code")
    detail: str = Field(description="what went wrong and how to fix it")


class FrameInfo(_Body):
    name: str
    description: str
    threshold: float = Field(description="the served model's default decision threshold")


class StanceInfo(_Body):
    labels: list[str]
    targets: list[str] = Field(description="default stance targets")
    descriptions: dict[str, str]


class SchemeOut(_Body):
    name: str
    description: str
    frames: list[FrameInfo]
    stance: StanceInfo | None
    model_version: str


class VersionOut(_Body):
    version: str
    scheme: str | None
    created: str | None
    encoder: str | None
    active: bool = Field(description="the registry's active version (what a restart serves)")
    served: bool = Field(description="the version this process serves now")
    metrics: dict[str, float] = Field(description="headline test-split figures from metrics.json")
    gate: GateOut | None = Field(None, description="the promotion gate's decision, for versions made by a retrain")


class ModelsOut(_Body):
    active: str | None
    served: str | None
    backend: str | None = Field(None, description="what scores the served version: torch, onnx-fp32 or onnx-int8")
    versions: list[VersionOut]


class ActivateOut(_Body):
    active: str
    served: str
    previous: str | None


class Health(_Body):
    status: str


class Ready(_Body):
    status: str
    model_version: str


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` for the error statuses a route can answer."""
    return {status: {"model": ErrorBody} for status in statuses}
