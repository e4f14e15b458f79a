"""The job worker: one background thread that runs queued jobs, oldest first, with the resumable engine.

It holds its own Predictor (a tokenizer must not serve two threads, and the served one belongs to the batcher).
A job stops at the next chunk when it is cancelled or the server shuts down; a shutdown leaves it queued, and
the next start resumes it from its ledger."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from framelens.model.errors import FramelensError
from framelens.model.predictor import Predictor
from framelens.serve.jobs.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobStore
from framelens.serve.predictors import PredictorFactory
from framelens.serve.scoring.engine import ScoreOptions, pending_plan, score_archive
from framelens.serve.scoring.limits import DEFAULT_LIMITS, ArchiveLimits
from framelens.serve.scoring.local import LocalScorer
from framelens.training.registry import Registry

log = logging.getLogger("framelens.jobs")
RESULTS = "results.jsonl"


class JobWorker:
    def __init__(
        self,
        store: JobStore,
        jobs_dir: Path,
        registry: Registry,
        chunk_size: int = 64,
        factory: PredictorFactory | None = None,
        limits: ArchiveLimits = DEFAULT_LIMITS,
        root: Path | None = None,
    ) -> None:
        self.store, self.jobs_dir, self.registry, self.chunk_size = store, jobs_dir, registry, chunk_size
        self.factory = factory or PredictorFactory()
        self.limits = limits
        self.root = root  # the jobs root: links in a folder job may not lead out of it
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._predictor: Predictor | None = None

    def folder(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def results(self, job_id: str) -> Path:
        return self.folder(job_id) / RESULTS

    def start(self) -> None:
        resumed = self.store.requeue_unfinished()
        if resumed:
            log.info("%d unfinished job(s) resume", resumed)
        self._thread = threading.Thread(target=self._loop, name="framelens-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.next_queued()
            if job is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except Exception as exc:  # a job that breaks must not stop the worker
                log.exception("job %s failed", job.id)
                self.store.move(job.id, FAILED, f"the job failed: {exc}", only_from=(RUNNING,))

    def _run(self, job: Job) -> None:
        if not self.store.move(job.id, RUNNING, None, only_from=(QUEUED,)):
            return  # cancelled meanwhile
        log.info("job %s: scoring %s", job.id, job.name)
        plan = pending_plan(self.results(job.id))  # a resumed job keeps the chunk size it started with
        options = ScoreOptions(
            targets=tuple(job.options["targets"]) if job.options.get("targets") is not None else None,
            evidence=bool(job.options.get("evidence", True)),
            chunk_size=int(plan["chunk_size"]) if plan else self.chunk_size,
            limits=self.limits,
            within=self.root,
        )

        def stop() -> bool:
            current = self.store.get(job.id)
            return self._stop.is_set() or current is None or current.state != RUNNING

        try:
            scorer = LocalScorer(self._load(job.model_version))
            summary = score_archive(
                Path(job.archive),
                self.results(job.id),
                scorer,
                options,
                on_progress=lambda counts, _items, _windows: self.store.progress(job.id, counts),
                should_stop=stop,
            )
        except FramelensError as exc:
            self.store.move(job.id, FAILED, str(exc), only_from=(RUNNING,))
            return
        if summary.finished:
            self.store.move(job.id, DONE, None, only_from=(RUNNING,))
        elif self._stop.is_set():
            self.store.move(job.id, QUEUED, "stopped by a server shutdown; resumes on restart", only_from=(RUNNING,))
        current = self.store.get(job.id)
        if current is not None and current.state == CANCELLED:
            self.discard(job.id)
        log.info("job %s: %s", job.id, current.state if current else "gone")

    def discard(self, job_id: str) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def _load(self, version: str) -> Predictor:
        if self._predictor is None or self._predictor.version != version:
            self._predictor = self.factory.load(self.registry.path(version))
        return self._predictor
