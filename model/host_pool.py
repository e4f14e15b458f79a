"""Host work on every core: worker processes prepare and finish documents while this process runs the network.

Each worker holds the version's tokenizer, scheme and calibration (no weights) and a `RemoteNet`: a `ScoringNet`
whose forward passes are requests to the one network in this process. So sentence splitting, window placement,
token ids, window aggregation and result formatting run in parallel on the workers' cores, and the network (a GPU,
or int8 on the CPU) is fed by all of them from one thread here. The workers run the same scoring code as one
process does, so a text's scores are the same (its windows are batched with those of its own part of the input:
the same numbers wherever the backend is batch-invariant, as every backend here is).

    with HostPool(version_dir, predictor.net, workers=4) as pool:
        predictions = pool.classify(texts)                     # in input order
        rows = pool.map(task, parts)                           # any top-level task(predictor, part)

Each worker has one pipe to this process (one request in flight per worker), arrays travel as NumPy
buffers, and a worker that dies or a network that raises ends the call with an error that says which, never a hang."""

from __future__ import annotations

import multiprocessing as mp
import selectors
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from framelens.model.errors import FramelensError
from framelens.model.inference import ScoringNet
from framelens.model.network import HeadOutput
from framelens.model.prediction import TextPrediction

P = TypeVar("P")
R = TypeVar("R")
_HEADS = ("frames", "stance")
_POLL_S = 0.05


class RemoteNet:
    """A `ScoringNet` in a worker: each forward pass is sent to the pool's network and its answer awaited.
    `token_logits_wanted` False (no evidence asked) leaves the per-token logits out of the answer."""

    def __init__(self, connection: Any, shape: dict[str, Any]) -> None:
        self.connection = connection
        self.n_frames, self.n_stance = int(shape["n_frames"]), int(shape["n_stance"])
        self._bias = {h: np.asarray(shape[f"{h}_bias"], dtype=np.float32) for h in _HEADS}
        self.token_logits_wanted = True

    def _call(self, head: str, batch: dict[str, torch.Tensor]) -> HeadOutput:
        arrays = {name: tensor.numpy() for name, tensor in batch.items()}
        self.connection.send((head, arrays, self.token_logits_wanted))
        kind, value = self.connection.recv()
        if kind == "error":
            raise FramelensError(f"the network failed on a batch: {value}")
        logits, token_logits = value
        tokens = torch.from_numpy(token_logits) if token_logits is not None else torch.empty(0)
        return HeadOutput(torch.from_numpy(logits), tokens)

    def frames(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._call("frames", batch)

    def stance(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self._call("stance", batch)

    def head_bias(self, head: str) -> np.ndarray:
        return self._bias[head]


_worker_predictor: Any = None  # the worker process's Predictor, set by _start_worker


def _start_worker(version_dir: str, connections: list[Any], ids: Any, shape: dict[str, Any]) -> None:
    global _worker_predictor
    from framelens.model.artifact import load_artifact
    from framelens.model.predictor import Predictor

    torch.set_num_threads(1)  # the worker's own work is single-threaded; its cores are the pool's parallelism
    worker = int(ids.get())
    net = RemoteNet(connections[worker], shape)
    artifact = load_artifact(Path(version_dir), weights=False)
    _worker_predictor = Predictor(artifact, version=Path(version_dir).name, net=net, backend=shape["backend"])
    _worker_predictor.batch_size = int(shape["batch_size"])


def _run_task(task: Callable[[Any, Any], Any], part: Any) -> Any:
    return task(_worker_predictor, part)


def classify_part(predictor: Any, part: tuple[list[str], dict[str, Any]]) -> list[TextPrediction]:
    """A pool task: `Predictor.classify` on one part of the input."""
    texts, kwargs = part
    predictor.net.token_logits_wanted = bool(kwargs.get("evidence", True))
    return list(predictor.classify(texts, **kwargs))


class HostPool:
    """`workers` processes around `net` (which stays in this process). `version_dir` is the version `net` is."""

    def __init__(
        self, version_dir: Path, net: ScoringNet, workers: int, batch_size: int = 8, backend: str = "remote"
    ) -> None:
        if workers < 1:
            raise FramelensError("host workers must be at least 1")
        self.net, self.workers = net, workers
        context = mp.get_context("spawn")  # fork would copy this process's compute threads' locks
        pipes = [context.Pipe(duplex=True) for _ in range(workers)]  # one per worker: one request in flight each
        self._connections = [here for here, _ in pipes]
        ids: Any = context.Queue()
        for worker in range(workers):
            ids.put(worker)
        shape = {
            "n_frames": net.n_frames,
            "n_stance": net.n_stance,
            "frames_bias": net.head_bias("frames").tolist(),
            "stance_bias": net.head_bias("stance").tolist(),
            "batch_size": batch_size,
            "backend": backend,
        }
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(str(version_dir), [there for _, there in pipes], ids, shape),
        )
        self._stop = threading.Event()
        self._server = threading.Thread(target=self._serve, name="framelens-host-pool-net", daemon=True)
        self._server.start()

    def _serve(self) -> None:
        """Run the network for every worker's requests, one batch at a time, until closed. One selector for the
        whole run: `multiprocessing.connection.wait` builds a new one per call, which on a fast CPU was most of
        this thread's time per batch."""
        with selectors.DefaultSelector() as selector:
            for connection in self._connections:
                selector.register(connection, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=_POLL_S):
                    if not self._answer(key.fileobj):
                        selector.unregister(key.fileobj)

    def _answer(self, connection: Any) -> bool:
        """Answer one request; False when that worker's pipe is gone (the pool reports the worker)."""
        try:
            head, arrays, wants_tokens = connection.recv()
        except (EOFError, OSError):
            return False
        try:
            with torch.inference_mode():
                out = getattr(self.net, head)({k: torch.from_numpy(v) for k, v in arrays.items()})
                logits = out.logits.float().cpu().numpy()
                tokens = out.token_logits.float().cpu().numpy() if wants_tokens else None
            reply: tuple[str, Any] = ("ok", (logits, tokens))
        except Exception as exc:  # the worker raises it; the pool keeps serving the others
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            connection.send(reply)
        except (BrokenPipeError, OSError):
            return False
        return True

    def map(self, task: Callable[[Any, P], R], parts: Iterable[P]) -> list[R]:
        """`task(worker_predictor, part)` for each part, on the workers; results in the parts' order."""
        futures = [self._pool.submit(_run_task, task, part) for part in parts]
        try:
            return [f.result() for f in futures]
        except BrokenProcessPool as exc:
            raise FramelensError(f"a host worker process died ({exc}); score again with fewer host workers") from None

    def classify(self, texts: list[str], part_size: int | None = None, **kwargs: Any) -> list[TextPrediction]:
        """`Predictor.classify(texts, **kwargs)`, split into parts across the workers; in input order."""
        size = part_size or max(1, -(-len(texts) // self.workers))
        parts = [(texts[i : i + size], kwargs) for i in range(0, len(texts), size)]
        return [p for chunk in self.map(classify_part, parts) for p in chunk]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stop.set()
        self._server.join()

    def __enter__(self) -> HostPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
