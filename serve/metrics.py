"""Prometheus metrics of one app: requests by route and status, latency, batch sizes, the served version."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """Each app has its own registry, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "framelens_http_requests_total",
            "HTTP requests by route template, method and status code",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "framelens_http_request_duration_seconds",
            "Time from request to the end of the response, by route template",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "framelens_batch_size_texts",
            "Texts per inference call of the micro-batcher",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "framelens_batch_duration_seconds",
            "Time of one inference call of the micro-batcher",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model = Gauge(
            "framelens_model_info", "The served model version (value 1)", ["version"], registry=self.registry
        )
        self.queue = Gauge(
            "framelens_batch_queue_depth", "Requests waiting for the inference worker", registry=self.registry
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:  # `labels()` takes a lock and checks its arguments: once per label set, not request
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route),
            )
        count, latency = children
        count.inc()
        latency.observe(seconds)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def set_version(self, version: str) -> None:
        self.model.clear()
        self.model.labels(version).set(1)

    def watch_queue(self, depth: Callable[[], float]) -> None:
        self.queue.set_function(depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)
