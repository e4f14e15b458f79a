"""Micro-batching: concurrent classify requests share inference calls on one worker thread off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framelens.model.prediction import TextPrediction
from framelens.serve.model_holder import ModelHolder

log = logging.getLogger("framelens.batcher")


class ModelNotReady(Exception):
    """No predictor is loaded yet (or loading failed); the API answers 503."""


@dataclass(frozen=True)
class Options:
    """Everything besides the texts that changes a prediction; only requests with equal options share a call."""

    targets: tuple[str, ...] | None = None
    evidence: bool = True
    thresholds: tuple[tuple[str, float], ...] | None = None

    def kwargs(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets) if self.targets is not None else None,
            "evidence": self.evidence,
            "thresholds": dict(self.thresholds) if self.thresholds else None,
        }


@dataclass
class _Job:
    texts: list[str]
    options: Options
    future: asyncio.Future[list[TextPrediction]]
    loop: asyncio.AbstractEventLoop
    dropped: bool = False  # the request was cancelled (its client left): never scored


_STOP = None


class Batcher:
    """Gathers jobs for up to `max_wait_ms` after the first arrives, or until `max_size` texts are waiting. With
    no wait (the default) a batch is the first job and whatever queued behind it while the previous batch ran."""

    def __init__(
        self,
        holder: ModelHolder,
        max_size: int = 32,
        max_wait_ms: float = 0.0,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.holder = holder
        self.max_size = max_size
        self.max_wait = max_wait_ms / 1000.0
        self.on_batch = on_batch or (lambda size, seconds: None)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="framelens-inference", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then end the worker."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def classify(self, texts: list[str], options: Options) -> list[TextPrediction]:
        if self.holder.current() is None:
            raise ModelNotReady(self.holder.problem or "the model is loading")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[TextPrediction]] = loop.create_future()
        job = _Job(texts, options, future, loop)
        self._queue.put(job)
        try:
            return await future
        except asyncio.CancelledError:  # the request was cancelled (its client gone, a timeout, a shutdown)
            job.dropped = True  # one attribute write, read by the worker before each batch
            raise

    def _run(self) -> None:
        carry: _Job | None = None
        stopping = False
        while not stopping:
            jobs, carry, stopping = self._collect(carry)
            try:
                self._process(jobs)
            except Exception as exc:  # the worker must outlive any one batch
                log.exception("inference batch failed")
                for job in jobs:
                    _settle(job, error=exc)

    def _collect(self, carry: _Job | None) -> tuple[list[_Job], _Job | None, bool]:
        first = carry if carry is not None and not carry.dropped else self._next_live()
        if first is None:
            return [], None, True
        jobs, size = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait
        while size < self.max_size:
            remaining = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, None, True
            if job.dropped:
                continue
            if size + len(job.texts) > self.max_size:
                return jobs, job, False  # starts the next batch; a request is never split
            jobs.append(job)
            size += len(job.texts)
        return jobs, None, False

    def _next_live(self) -> _Job | None:
        """The next queued job whose request still waits (None: stop)."""
        while True:
            job = self._queue.get()
            if job is None or not job.dropped:
                return job

    def _process(self, jobs: list[_Job]) -> None:
        jobs = [job for job in jobs if not job.dropped]  # cancelled while the batch was gathered
        if not jobs:
            return
        predictor = self.holder.current()  # taken once: a swap mid-batch does not touch this batch
        if predictor is None:
            for job in jobs:
                _settle(job, error=ModelNotReady(self.holder.problem or "the model is loading"))
            return
        groups: dict[Options, list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.options, []).append(job)
        for options, group in groups.items():
            texts = [t for job in group for t in job.texts]
            began = time.perf_counter()
            try:
                results = predictor.classify(texts, **options.kwargs())
            except Exception as exc:
                if len(group) == 1:
                    _settle(group[0], error=exc)
                else:  # run each alone so that an error reaches only the request that caused it
                    for job in group:
                        self._process_one(job, predictor)
                continue
            self.on_batch(len(texts), time.perf_counter() - began)
            offset = 0
            for job in group:
                _settle(job, result=results[offset : offset + len(job.texts)])
                offset += len(job.texts)

    def _process_one(self, job: _Job, predictor: Any) -> None:
        began = time.perf_counter()
        try:
            result = predictor.classify(job.texts, **job.options.kwargs())
        except Exception as exc:
            _settle(job, error=exc)
            return
        self.on_batch(len(job.texts), time.perf_counter() - began)
        _settle(job, result=result)


def _settle(job: _Job, result: list[TextPrediction] | None = None, error: BaseException | None = None) -> None:
    def resolve() -> None:
        if job.future.done():  # the request was cancelled meanwhile
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result or [])

    with contextlib.suppress(RuntimeError):  # the event loop has closed: nobody is waiting any more
        job.loop.call_soon_threadsafe(resolve)
