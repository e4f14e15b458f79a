"""GET /metrics in Prometheus format, and request ids in the log lines."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from framelens.serve.context import RequestIdFilter
from framelens.serve.logs import SecondCachedFormatter, log_config
from tests.serve.conftest import PASSAGE

FORMAT = log_config()["formatters"]["plain"]["fmt"]


def value(metrics: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", metrics, re.M)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_metrics_count_requests_latency_batches_and_the_served_version(client: TestClient, first_version: str) -> None:
    before = client.get("/metrics").text
    key = 'framelens_http_requests_total{method="POST",route="/v1/classify",status="200"}'
    start = value(before, key) if key in before else 0.0
    for _ in range(3):
        assert client.post("/v1/classify", json={"texts": [PASSAGE, PASSAGE]}).status_code == 200
    client.post("/v1/classify", json={"text": ""})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    metrics = response.text
    assert value(metrics, key) == start + 3
    assert value(metrics, 'framelens_http_requests_total{method="POST",route="/v1/classify",status="422"}') >= 1
    assert value(metrics, 'framelens_http_request_duration_seconds_count{route="/v1/classify"}') >= 4
    assert value(metrics, 'framelens_batch_size_texts_bucket{le="2.0"}') >= 3
    assert value(metrics, f'framelens_model_info{{version="{first_version}"}}') == 1.0
    assert "framelens_batch_queue_depth" in metrics
    client.get("/no/such/thing/12345")
    assert "/no/such/thing/12345" not in client.get("/metrics").text, "unmatched paths share one label"


def test_each_request_logs_a_line_with_its_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="framelens"):
        client.post("/v1/classify", json={"text": PASSAGE}, headers={"X-Request-ID": "trace-me-7"})
    tagged = [r.getMessage() for r in caplog.records if getattr(r, "request_id", None) == "trace-me-7"]
    assert tagged and tagged[-1].startswith("POST /v1/classify 200 "), tagged


def test_the_log_filter_stamps_records_outside_requests() -> None:
    record = logging.LogRecord("framelens.x", logging.INFO, __file__, 1, "hello", None, None)
    assert RequestIdFilter().filter(record) and record.request_id == "-"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "created", [1_764_000_000.0, 1_764_000_000.25, 1_764_000_000.999, 1_764_000_001.5, 1_764_003_601.0]
)
def test_the_log_formatter_prints_the_time_logging_would(created: float) -> None:
    cached, plain = SecondCachedFormatter(FORMAT), logging.Formatter(FORMAT)
    for when in (created - 1.0, created, created + 0.4, created):  # a second cached before, then this one's
        record = logging.LogRecord("framelens.http", logging.INFO, __file__, 1, "POST /v1/classify 200", None, None)
        record.created, record.msecs, record.request_id = when, (when - int(when)) * 1000, "r-1"
        assert cached.format(record) == plain.format(record)
