"""Retrain jobs seen from the server: start one child process per job, watch it, swap the promoted model in.

Training runs in `python -m framelens.training.retrain` so that the API stays responsive; the child dies with
the server, and on start the server marks any job a dead server left running as failed (its staging folder is
removed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from framelens.serve.model_holder import activate_version
from framelens.serve.settings import Settings
from framelens.training.registry import Registry
from framelens.training.retrain import MARKER, RetrainRequest
from framelens.training.train_jobs import Job, TrainJobs, process_alive

log = logging.getLogger("framelens.retrain")


class Retrainer:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings: Settings = app.state.settings
        self.settings = settings
        self.jobs = TrainJobs(settings.home)
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        # Children start from one thread that lives as long as this server: off the event loop (SQLite and a
        # fork block), yet a thread that does not end under them (the child's death signal follows the thread
        # that started it).
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="framelens-retrain-start")

    def recover(self) -> list[str]:
        """After a crash or kill -9: jobs whose process is gone are failed; dead writers' staging is removed."""
        Registry(self.settings.home).clean_stale()
        failed = self.jobs.fail_orphans(lambda job: process_alive(job.pid, "retrain"))
        for job_id in failed:
            log.warning("retrain job %s was left unfinished by a stopped server: marked failed", job_id)
        return failed

    def request_for(self, init_from: str, epochs: int | None, promote: bool) -> RetrainRequest:
        s = self.settings
        return RetrainRequest(
            init_from=init_from,
            epochs=epochs,
            threads=s.threads,
            macro_tolerance=s.gate_macro_tolerance,
            frame_tolerance=s.gate_frame_tolerance,
            promote=promote,
        )

    async def start(self, request: RetrainRequest) -> Job:
        """Queue the job (JobBusy if one is live), start its process and watch it."""
        spawned = asyncio.get_running_loop().run_in_executor(self._starter, self._spawn, request)
        spawned.add_done_callback(self._adopt)  # watched even if the request that started it is cancelled
        job, _ = await asyncio.shield(spawned)
        return job

    def _adopt(self, spawned: asyncio.Future[tuple[Job, subprocess.Popen[bytes]]]) -> None:
        if spawned.cancelled() or spawned.exception() is not None:
            return
        job, child = spawned.result()
        self._children[job.id] = child
        task = asyncio.get_running_loop().create_task(self._watch(job.id, child))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)
        log.info("retrain job %s started (process %d)", job.id, child.pid)

    def _spawn(self, request: RetrainRequest) -> tuple[Job, subprocess.Popen[bytes]]:
        """On the starter thread: the job's row, then its process."""
        job = self.jobs.create(asdict(request))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
        home = str(Path(self.settings.home).resolve())
        command = [sys.executable, "-m", MARKER, "--home", home, "--job", job.id]
        command += ["--parent", str(os.getpid())]
        try:
            with self.jobs.log_path(job.id).open("ab") as out:
                child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        except OSError as exc:  # the slot must not stay taken by a job that never ran
            self.jobs.fail(job.id, f"the training process could not start: {exc}")
            raise
        return job, child

    async def _watch(self, job_id: str, child: subprocess.Popen[bytes]) -> None:
        while child.poll() is None:
            await asyncio.sleep(0.25)
        self._children.pop(job_id, None)
        job = await asyncio.to_thread(self.jobs.get, job_id)
        if job.live:  # the child died without saying how (killed, out of memory)
            error = f"the training process exited with status {child.returncode}; no version kept"
            await asyncio.to_thread(self.jobs.fail, job_id, error)
            log.error("retrain job %s: training process exited with %s", job_id, child.returncode)
            return
        result = job.result or {}
        if job.state == "succeeded" and result.get("promoted"):
            await self._swap_in(str(result["version"]))
        log.info("retrain job %s %s: %s", job_id, job.state, result or job.error)

    async def _swap_in(self, version: str) -> None:
        state = self.app.state
        try:
            _, previous = await activate_version(
                version, state.registry, state.holder, state.metrics, state.activation_lock
            )
        except Exception:  # the registry already points at it: a restart serves it
            log.exception("the promoted version %s could not be loaded into this server", version)
            return
        log.info("promoted model %s is now served (was %s)", version, previous.version if previous else None)

    def describe(self, job: Job) -> dict[str, Any]:
        tail = self.jobs.log_tail(job.id)
        return {**job.__dict__, "progress": self.jobs.progress(job, tail), "log_tail": tail}

    async def close(self) -> None:
        """A graceful stop ends a running child (it removes its staging folder) and fails its job."""
        for job_id, child in list(self._children.items()):
            child.terminate()
            try:
                await asyncio.to_thread(child.wait, 30)
            except subprocess.TimeoutExpired:
                child.kill()
                await asyncio.to_thread(child.wait)
            await asyncio.to_thread(self.jobs.fail, job_id, "the server stopped during training; no version was kept")
        for task in list(self._watchers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._starter.shutdown(wait=False)
