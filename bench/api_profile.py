"""Where one /v1/classify request spends its time: the model call against everything around it.

    python bench/api_profile.py --version-dir models/versions/v… --backend onnx-int8
    python bench/api_profile.py --version-dir … --backend torch --requests 300 --top 20

One process, one request at a time, on the same seed passages (20–150 words, as bench/api_load.py sends):

  documents    sentence split, windows and token ids of one passage (inside the model call)
  model call   Predictor.classify([text]): documents, the network, calibration, evidence (what the batcher runs)
  response     the prediction as JSON bytes, as the route builds it
  in-process   the whole app through ASGI (no socket): middleware, validation, keys, batcher hop, model, JSON
  HTTP         (with --url) the same request over loopback to a running server, one client

`around the model` = in-process − model call: the service's own cost per request. Then two cProfile tables:
inside the model call, and the event loop's side of in-process requests (the network runs on the batcher's
thread, so what the loop shows is the service's work), each by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from api_load import passages, percentile


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return seconds


def cycle(texts: list[str]) -> Callable[[], str]:
    state = {"i": 0}

    def next_text() -> str:
        state["i"] += 1
        return texts[state["i"] % len(texts)]

    return next_text


def row(name: str, seconds: list[float]) -> str:
    p50, p90, p99 = (percentile(seconds, q) * 1000 for q in (50, 90, 99))
    mean = sum(seconds) / len(seconds) * 1000
    return f"{name:<18}{mean:>9.2f}{p50:>9.2f}{p90:>9.2f}{p99:>9.2f}"


def profile_table(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


async def timed_requests(
    http: Any, texts: list[str], runs: int, profile: cProfile.Profile | None = None
) -> list[float]:
    """Seconds of each of `runs` classify requests, one at a time, after 20 unrecorded ones (profiled if asked)."""
    next_text = cycle(texts)
    for _ in range(20):  # warm-up
        (await http.post("/v1/classify", json={"text": next_text()})).raise_for_status()
    seconds = []
    if profile is not None:
        profile.enable()
    for _ in range(runs):
        began = time.perf_counter()
        response = await http.post("/v1/classify", json={"text": next_text()})
        seconds.append(time.perf_counter() - began)
        response.raise_for_status()
    if profile is not None:
        profile.disable()
    return seconds


async def in_process(app: Any, texts: list[str], runs: int, profile: cProfile.Profile | None) -> list[float]:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        return await timed_requests(http, texts, runs, profile)


async def over_http(url: str, texts: list[str], runs: int) -> list[float]:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        return await timed_requests(http, texts, runs)


async def app_stages(
    settings: Any, texts: list[str], runs: int, top: int, dump: Path | None
) -> tuple[list[float], str]:
    from framelens.serve.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        while app.state.holder.current() is None:
            if app.state.holder.problem not in (None, "the model is loading"):
                raise SystemExit(f"api_profile: the model did not load: {app.state.holder.problem}")
            await asyncio.sleep(0.05)
        seconds = await in_process(app, texts, runs, None)
        profile = cProfile.Profile()
        await in_process(app, texts, min(runs, 200), profile)
    if dump is not None:
        profile.dump_stats(dump)
    return seconds, profile_table(profile, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version-dir", type=Path, required=True, help="a model version folder")
    parser.add_argument("--backend", default="onnx-int8", help="torch, onnx-fp32 or onnx-int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300, help="requests per stage")
    parser.add_argument("--top", type=int, default=18, help="rows of each profile table")
    parser.add_argument("--url", help="also time a running server over loopback (one client)")
    parser.add_argument("--dump", type=Path, help="write the event loop's profile here (pstats / snakeviz)")
    parser.add_argument("--max-words", type=int, help="only passages of at most this many words")
    args = parser.parse_args()

    import orjson
    import torch

    from framelens.model.inference import make_documents
    from framelens.model.predictor import Predictor
    from framelens.serve.settings import Settings

    torch.set_num_threads(args.threads)
    version_dir = args.version_dir.resolve()
    texts = passages(None, max_words=args.max_words)
    predictor = Predictor.load(version_dir, backend=args.backend, threads=args.threads)
    a = predictor.artifact
    print(f"{version_dir.name}, backend {args.backend}, {args.threads} threads, {len(texts)} seed passages")

    def documents() -> None:
        make_documents([next_doc()], a.tokenizer, a.spec, with_stance=predictor.scheme.has_stance)

    def model_call() -> None:
        predictor.classify([next_model()])

    last: dict[str, Any] = {}

    def response() -> None:
        result = last["prediction"]
        orjson.dumps({"model_version": result.model_version, "results": [result.to_dict()]})

    next_doc, next_model = cycle(texts), cycle(texts)
    timed(model_call, 20)  # warm-up
    rows = {"documents": timed(documents, args.requests), "model call": timed(model_call, args.requests)}
    last["prediction"] = predictor.classify([texts[0]])[0]
    rows["response"] = timed(response, args.requests)

    settings = Settings(
        home=version_dir.parent.parent,
        version=version_dir.name,
        backend=args.backend,
        threads=args.threads,
        log_level="warning",
    )
    rows["in-process"], loop_profile = asyncio.run(app_stages(settings, texts, args.requests, args.top, args.dump))
    if args.url:
        rows["HTTP (1 client)"] = asyncio.run(over_http(args.url, texts, args.requests))

    print(f"\n{'ms per request':<18}{'mean':>9}{'p50':>9}{'p90':>9}{'p99':>9}")
    for name, seconds in rows.items():
        print(row(name, seconds))
    around = percentile(rows["in-process"], 50) - percentile(rows["model call"], 50)
    print(f"\naround the model (in-process p50 − model call p50): {around * 1000:.2f} ms")

    inside = cProfile.Profile()
    inside.enable()
    for _ in range(min(args.requests, 200)):
        model_call()
    inside.disable()
    print("\ninside the model call, by own time:")
    print(profile_table(inside, args.top))
    print("\nthe event loop's side of in-process requests, by own time:")
    print(loop_profile)


if __name__ == "__main__":
    main()
