"""Load test of a running framelens API on loopback: N concurrent clients post single passages to /v1/classify.

    python bench/api_load.py                       # 32 clients, 2000 requests, against 127.0.0.1:8000
    python bench/api_load.py --clients 1,8,32      # one row per client count (also: --sweep)
    python bench/api_load.py --url http://127.0.0.1:8123 --requests 500

Prints requests, errors, throughput and p50/p90/p99 latency; stops by itself (request count and a time cap).
Exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

SEED_PASSAGES = Path(__file__).resolve().parent.parent / "seeds" / "ukraine-war" / "passages.jsonl"
FALLBACK = [
    "Kyiv and Moscow rule out a ceasefire as Western aid stalls in Congress.",
    "A new weapons package arrived as allies pledged more ammunition for the front.",
    "Civilians fled the shelled city while refugees crossed the border at night.",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Run:
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def passages(path: Path | None, limit: int = 500, max_words: int | None = None) -> list[str]:
    """Up to `limit` passages from the file (default: the seeds), of at most `max_words` words when given."""
    source = path or SEED_PASSAGES
    if not source.is_file():
        return FALLBACK
    texts = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line) if line.lstrip().startswith("{") else {"text": line}
            text = str(record["text"])
            if max_words is None or len(text.split()) <= max_words:
                texts.append(text)
        if len(texts) >= limit:
            break
    return texts or FALLBACK


async def drive(
    url: str, texts: list[str], clients: int, total: int, max_seconds: float, headers: dict[str, str]
) -> Run:
    run = Run(clients)
    sent = 0
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < total and time.monotonic() < deadline:
            n = sent
            sent += 1
            began = time.perf_counter()
            try:
                response = await http.post("/v1/classify", json={"text": texts[n % len(texts)]}, headers=headers)
                if response.status_code != 200:
                    run.errors.append(f"{response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                run.errors.append(f"{type(exc).__name__}: {exc}")
            run.latencies.append(time.perf_counter() - began)

    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for _ in range(clients)))
        run.seconds = time.perf_counter() - began
    return run


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def table(runs: list[Run]) -> str:
    names = ("clients", "requests", "errors", "seconds", "req/s", "p50 ms", "p90 ms", "p99 ms")
    head = "  ".join(f"{n:>8}" for n in names)
    rows = [head, "-" * len(head)]
    for r in runs:
        ms = [percentile(r.latencies, q) * 1000 for q in (50, 90, 99)]
        rate = len(r.latencies) / r.seconds if r.seconds else 0.0
        cells = [f"{r.clients}", f"{len(r.latencies)}", f"{len(r.errors)}", f"{r.seconds:.1f}", f"{rate:.1f}"]
        rows.append("  ".join(f"{c:>8}" for c in [*cells, *(f"{m:.1f}" for m in ms)]))
    return "\n".join(rows)


async def bench(args: argparse.Namespace) -> list[Run]:
    texts = passages(Path(args.file) if args.file else None, max_words=args.max_words)
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    async with httpx.AsyncClient(base_url=args.url, timeout=10.0) as http:
        ready = await http.get("/readyz")
        if ready.status_code != 200:
            raise SystemExit(f"api_load: {args.url} is not ready: {ready.text}")
        print(f"model {ready.json()['model_version']} at {args.url}; {len(texts)} distinct passages", flush=True)
    await drive(args.url, texts, min(8, args.warmup or 1), args.warmup, args.max_seconds, headers)  # warm-up
    counts = [1, 8, 32] if args.sweep else [int(c) for c in str(args.clients).split(",")]
    return [await drive(args.url, texts, c, args.requests, args.max_seconds, headers) for c in counts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a loopback URL of a running server")
    parser.add_argument("--clients", default="32", help="concurrent clients, or a comma list such as 1,8,32")
    parser.add_argument("--sweep", action="store_true", help="run 1, 8 and 32 clients")
    parser.add_argument("--requests", type=int, default=2000, help="requests per run")
    parser.add_argument("--warmup", type=int, default=32, help="requests sent first and not counted")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop a run after this long")
    parser.add_argument("--file", help="passages: JSON Lines with 'text' or plain lines (default: the seeds)")
    parser.add_argument("--key", help="API key, when the server keys its reading routes")
    parser.add_argument("--max-words", type=int, help="only passages of at most this many words (short: 40)")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK:
        parser.error("this load test only runs against loopback (127.0.0.1, localhost or ::1)")
    runs = asyncio.run(bench(args))
    print(table(runs))
    for r in runs:
        for error in sorted(set(r.errors))[:5]:
            print(f"  {r.clients} clients: {error}", file=sys.stderr)
    return 1 if any(r.errors for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
