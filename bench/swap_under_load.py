"""A retrain and promotion under a steady stream of classify requests, against a running server on loopback.

    FRAMELENS_API_KEY_HASHES=$(framelens hash-key KEY) framelens serve --port 8123 &
    python bench/swap_under_load.py --url http://127.0.0.1:8123 --key KEY --epochs 1

`--clients` loops post one passage each to /v1/classify from the moment the retrain is started (POST /v1/train)
until `--after` seconds past its end. Prints requests, failures (any non-200 or transport error), the versions
that answered before and after the swap, and the job's gate decision. Exits 1 on any failed request. Bounded:
`--max-seconds` stops everything. To see a promotion rather than a refusal, start the server with looser gate
tolerances (FRAMELENS_GATE_MACRO_TOLERANCE, FRAMELENS_GATE_FRAME_TOLERANCE): this measures the swap, not the gate.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx

PASSAGE = "Kyiv and Moscow rule out a ceasefire as Western aid stalls in Congress."


Seen = list[tuple[float, str]]


async def stream(http: httpx.AsyncClient, stop: asyncio.Event, seen: Seen, failed: list[str]) -> None:
    while not stop.is_set():
        try:
            response = await http.post("/v1/classify", json={"text": PASSAGE})
            if response.status_code == 200:
                seen.append((time.monotonic(), response.json()["model_version"]))
            else:
                failed.append(f"{response.status_code}: {response.text[:200]}")
        except httpx.HTTPError as exc:
            failed.append(f"{type(exc).__name__}: {exc}")


async def run(args: argparse.Namespace) -> int:
    headers = {"X-API-Key": args.key}
    seen: list[tuple[float, str]] = []
    failed: list[str] = []
    stop = asyncio.Event()
    deadline = time.monotonic() + args.max_seconds
    async with httpx.AsyncClient(base_url=args.url, timeout=30.0) as http:
        while (ready := await http.get("/readyz")).status_code != 200:  # the model may still be loading
            if time.monotonic() > deadline:
                sys.exit(f"swap_under_load: {args.url} never became ready: {ready.text}")
            await asyncio.sleep(1.0)
        before = ready.json()["model_version"]
        loops = [asyncio.create_task(stream(http, stop, seen, failed)) for _ in range(args.clients)]
        body = {"epochs": args.epochs} if args.epochs else {}
        started = await http.post("/v1/train", json=body, headers=headers)
        if started.status_code != 202:
            stop.set()
            await asyncio.gather(*loops)
            sys.exit(f"swap_under_load: POST /v1/train answered {started.status_code}: {started.text}")
        job_id = started.json()["id"]
        job: dict = {}
        while time.monotonic() < deadline:
            job = (await http.get(f"/v1/train/{job_id}")).json()
            if job["state"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(2.0)
        ended = time.monotonic()
        await asyncio.sleep(min(args.after, max(deadline - time.monotonic(), 0)))
        stop.set()
        await asyncio.gather(*loops)
    after = [v for t, v in seen if t > ended]
    result = job.get("result") or {}
    decision = result.get("decision") or {}
    print(f"job {job_id}: {job.get('state')}; candidate {result.get('version')}, promoted {result.get('promoted')}")
    print(f"gate: {decision.get('reasons') or 'no figure fell by more than allowed'}; error: {job.get('error')}")
    print(f"requests answered {len(seen)}, failed {len(failed)}; active before {before}")
    print(f"versions answering during the run: {dict(Counter(v for _, v in seen))}")
    print(f"versions answering after the job ended: {dict(Counter(after))}")
    for problem in failed[:10]:
        print("  failed:", problem)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a loopback URL of a running server")
    parser.add_argument("--key", required=True, help="an API key the server accepts")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--clients", type=int, default=2, help="concurrent request loops")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of requests after the job ends")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    if urlsplit(args.url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        sys.exit("swap_under_load: loopback only")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
