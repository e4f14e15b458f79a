"""RayScorer: each chunk scored on Ray Data, by an actor pool in which every actor holds one copy of the model.

The model version's files travel through Ray's object store (put once per run), so the nodes of a cluster need
framelens installed but not the registry. The actors score with the backend the driver names (the one the local
engine would use: with "auto", the fastest that passed parity), so both engines give the same scores; only that
backend's ONNX graph travels. The archive is read, and the output written, by the driver: chunks are
the unit of resuming, exactly as with the local engine. Needs the optional extra: `pip install '.[ray]'`."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from framelens.model.backends import TORCH
from framelens.model.errors import FramelensError
from framelens.model.onnx_backend import FILES, MANIFEST
from framelens.serve.predictors import PredictorFactory
from framelens.serve.scoring.engine import ScoredChunk, ScoreOptions
from framelens.serve.scoring.records import Record

_FIELDS = ("id", "text", "where", "title", "date", "outlet")


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise FramelensError("the Ray engine needs Ray: pip install '.[ray]' (or pip install 'ray[data]')") from exc
    return ray


class RayScorer:
    engine = "ray"

    def __init__(
        self, model_dir: Path, workers: int = 1, address: str | None = None, factory: PredictorFactory | None = None
    ) -> None:
        ray = _ray()
        self._version = model_dir.name
        # Resolved once here, so every actor loads the backend the local engine would (none re-checks parity).
        self.factory = (factory or PredictorFactory(TORCH, threads=1)).resolved(model_dir)
        self.workers, self.threads, self.backend = workers, self.factory.threads or 1, self.factory.backend
        address = address or os.environ.get("RAY_ADDRESS") or None
        if not ray.is_initialized():
            if address:  # an existing cluster: its resources are its own
                ray.init(address=address, logging_level="WARNING", log_to_driver=False)
            else:  # a local Ray, bounded to what this run asks for
                ray.init(
                    num_cpus=workers * self.threads,
                    include_dashboard=False,
                    logging_level="WARNING",
                    log_to_driver=False,
                )
        import ray.data  # configures the "ray.data" logger, so quieten it after

        # Ray Data logs a few lines per chunk (and warns that its own bars are off): they would break framelens' bar.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # rows come back in the archive's order
        context.enable_progress_bars = False  # framelens draws its own
        self._model = ray.put(_pack(model_dir, self.backend))

    @property
    def version(self) -> str:
        return self._version

    def score(self, records: list[Record], options: ScoreOptions) -> ScoredChunk:
        ray = _ray()
        items = [{k: getattr(r, k) or "" for k in _FIELDS} for r in records]
        dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), self.workers * 4)))
        scored = dataset.map_batches(
            _Actor,
            fn_constructor_kwargs={
                "model": [self._model],  # nested: the actor fetches it, Ray need not keep it as an argument
                "version": self._version,
                "factory": json.dumps(asdict(self.factory)),
                "options": json.dumps(asdict(options)),
            },
            batch_size=64,
            compute=ray.data.ActorPoolStrategy(size=self.workers),
            num_cpus=self.threads,
            batch_format="numpy",
        )
        chunk = ScoredChunk()
        for row in scored.iter_rows():
            kind, payload = str(row["kind"]), json.loads(str(row["row"]))
            if kind == "windows_read":
                chunk.n_windows += int(payload)
            else:
                getattr(chunk, kind).append(payload)
        return chunk


def _pack(model_dir: Path, backend: str) -> dict[str, bytes]:
    """The version's files (weights, tokenizer, JSON) and, for an ONNX backend, its manifest and that one graph."""
    files = [p for p in sorted(model_dir.rglob("*")) if p.is_file() and p.relative_to(model_dir).parts[0] != "onnx"]
    if backend != TORCH:
        files += [model_dir / "onnx" / MANIFEST, model_dir / "onnx" / FILES[backend]]
    return {p.relative_to(model_dir).as_posix(): p.read_bytes() for p in files}


class _Actor:
    """One per Ray worker: unpacks the model version once, then scores batch after batch."""

    def __init__(self, model: list[Any], version: str, factory: str, options: str) -> None:
        from framelens.serve.scoring.local import LocalScorer

        predictors = PredictorFactory(**json.loads(factory))
        files: dict[str, bytes] = _ray().get(model[0])
        scratch = Path(tempfile.mkdtemp(prefix="framelens-ray-"))
        try:  # loaded into memory, then the files go (each chunk starts new actors: they must not pile up)
            folder = scratch / version
            for name, data in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
            predictor = predictors.load(folder)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        fields = json.loads(options)
        fields["targets"] = tuple(fields["targets"]) if fields["targets"] is not None else None
        self.options = ScoreOptions(**fields)
        self.scorer = LocalScorer(predictor)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        columns = {k: [str(v) for v in batch[k]] for k in _FIELDS}
        records = [
            Record(
                id=columns["id"][i],
                text=columns["text"][i],
                where=columns["where"][i],
                title=columns["title"][i] or None,
                date=columns["date"][i] or None,
                outlet=columns["outlet"][i] or None,
            )
            for i in range(len(columns["id"]))
        ]
        chunk = self.scorer.score(records, self.options)
        kinds, rows = ["windows_read"], [json.dumps(chunk.n_windows)]
        for kind in ("articles", "windows", "errors"):
            for row in getattr(chunk, kind):
                kinds.append(kind)
                rows.append(json.dumps(row, ensure_ascii=False))
        return {"kind": kinds, "row": rows}
