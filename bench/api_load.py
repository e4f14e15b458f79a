"""Load test of a running framelens API on loopback: N concurrent clients post single passages to /v1/classify.

    python bench/api_load.py                       # 32 clients, 2000 requests, against 127.0.0.1:8000
    python bench/api_load.py --clients 1,8,32      # one row per client count (also: --sweep)
    python bench/api_load.py --url http://127.0.0.1:8123 --requests 500
    python bench/api_load.py --serve models/versions/v… --backends torch,onnx-int8 --clients 1,32 --offline

Prints requests, errors, throughput and p50/p90/p99 latency; stops by itself (request count and a time cap).
With --serve the script starts `framelens serve` itself on a free loopback port, once per backend in turn (so
torch and int8 are measured in the same session, one server at a time), and --offline adds the same passages
scored without HTTP by a Predictor on that backend (in a process of its own, after the server stopped): the rate
the API's throughput is judged against. Exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
SERVER_LOG = Path(tempfile.gettempdir()) / "framelens-api_load-server.log"  # output of the servers --serve starts


@dataclass
class Run:
    clients: int
    label: str = ""
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
    url: str,
    texts: list[str],
    clients: int,
    total: int,
    max_seconds: float,
    headers: dict[str, str],
    client: str = "raw",
) -> Run:
    """`clients` concurrent loops, each one request at a time on its own keep-alive connection, `total` in all."""
    if client == "httpx":
        return await drive_httpx(url, texts, clients, total, max_seconds, headers)
    run = Run(clients)
    sent = 0
    deadline = time.monotonic() + max_seconds
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [_raw_request(host, port, extra, text) for text in texts]  # encoded before the clock starts

    async def client_loop() -> None:
        nonlocal sent
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while sent < total and time.monotonic() < deadline:
            n = sent
            sent += 1
            began = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, port)
                reader, writer = connection
                writer.write(requests[n % len(requests)])
                status, body, closing = await _raw_response(reader)
                if status != 200 or not body.startswith(b'{"model_version"'):
                    run.errors.append(f"{status}: {body[:200].decode(errors='replace')}")
                if closing:
                    writer.close()
                    connection = None
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                run.errors.append(f"{type(exc).__name__}: {exc}")
                connection = None
            run.latencies.append(time.perf_counter() - began)
        if connection is not None:
            connection[1].close()

    began = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    run.seconds = time.perf_counter() - began
    return run


def _raw_request(host: str, port: int, extra_headers: str, text: str) -> bytes:
    body = json.dumps({"text": text}).encode()
    head = (
        f"POST /v1/classify HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra_headers}\r\n"
    )
    return head.encode() + body


async def _raw_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server closes the connection, of one HTTP/1.1 response (Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(fields.get("content-length", "0")))
    return status, body, fields.get("connection", "").lower() == "close"


async def drive_httpx(
    url: str, texts: list[str], clients: int, total: int, max_seconds: float, headers: dict[str, str]
) -> Run:
    """As `drive`, through httpx: a client as users write it, with its own cost per request in every figure."""
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


def table(runs: list[Run], offline: dict[str, float] | None = None) -> str:
    names = ("clients", "requests", "errors", "seconds", "req/s", "p50 ms", "p90 ms", "p99 ms")
    extra = ("vs offline",) if offline else ()
    head = f"{'backend':<10}  " * any(r.label for r in runs) + "  ".join(f"{n:>8}" for n in (*names, *extra))
    rows = [head, "-" * len(head)]
    for r in runs:
        ms = [percentile(r.latencies, q) * 1000 for q in (50, 90, 99)]
        rate = len(r.latencies) / r.seconds if r.seconds else 0.0
        cells = [f"{r.clients}", f"{len(r.latencies)}", f"{len(r.errors)}", f"{r.seconds:.1f}", f"{rate:.1f}"]
        cells += [f"{m:.1f}" for m in ms]
        if offline:
            cells.append(f"{rate / offline[r.label]:.2f}x" if offline.get(r.label) else "")
        rows.append(f"{r.label:<10}  " * bool(r.label) + "  ".join(f"{c:>8}" for c in cells))
    if offline:
        rows.append("")
        rows += [f"offline {name}: {rate:.1f} passages/s on the same passages" for name, rate in offline.items()]
    return "\n".join(rows)


async def bench(args: argparse.Namespace, url: str, texts: list[str], label: str = "") -> list[Run]:
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
        ready = await http.get("/readyz")
        if ready.status_code != 200:
            raise SystemExit(f"api_load: {url} is not ready: {ready.text}")
        print(f"model {ready.json()['model_version']} at {url}; {len(texts)} distinct passages", flush=True)
    await drive(url, texts, min(8, args.warmup or 1), args.warmup, args.max_seconds, headers, args.client)  # warm-up
    counts = [1, 8, 32] if args.sweep else [int(c) for c in str(args.clients).split(",")]
    runs = [await drive(url, texts, c, args.requests, args.max_seconds, headers, args.client) for c in counts]
    for r in runs:
        r.label = label
    return runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(version_dir: Path, backend: str, threads: int, log: Path, workers: int = 1) -> Iterator[str]:
    """`framelens serve` on a free loopback port, serving `version_dir` on `backend`; stopped on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "FRAMELENS_HOME": str(version_dir.parent.parent),
        "FRAMELENS_VERSION": version_dir.name,
        "FRAMELENS_BACKEND": backend,
        "FRAMELENS_THREADS": str(threads),
        "FRAMELENS_WORKERS": str(workers),
    }
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "framelens.serve.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # the first start of a backend may export and parity-check it
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"api_load: the {backend} server did not come up; see {log}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


OFFLINE = """
import sys, time, json
from pathlib import Path
from framelens.model.predictor import Predictor
texts = json.loads(sys.stdin.read())
p = Predictor.load(Path(sys.argv[1]), backend=sys.argv[2], threads=int(sys.argv[3]))
p.classify(texts[:32])
began = time.perf_counter()
for k in range(0, len(texts), 32):
    p.classify(texts[k : k + 32])
print(len(texts) / (time.perf_counter() - began))
"""


def offline_rate(version_dir: Path, backend: str, threads: int, texts: list[str], count: int) -> float:
    """Passages/s of a Predictor on `backend` over the same passages the clients sent (`count` of them, cycled,
    32 per call, evidence on as the API's default), in a process of its own."""
    sent = [texts[i % len(texts)] for i in range(count)]
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE, str(version_dir), backend, str(threads)],
        input=json.dumps(sent),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


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
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: a lean HTTP/1.1 keep-alive client (requests encoded up front), so that on a 2-core box the "
        "figures are the server's more than the load generator's; httpx: a client as users write it",
    )
    parser.add_argument("--serve", type=Path, help="start `framelens serve` on this version folder (per backend)")
    parser.add_argument("--backends", default="onnx-int8", help="with --serve: backends in turn, e.g. torch,onnx-int8")
    parser.add_argument("--threads", type=int, default=2, help="with --serve: the server's threads")
    parser.add_argument("--workers", type=int, default=1, help="with --serve: server processes")
    parser.add_argument("--offline", action="store_true", help="with --serve: also score the passages offline")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK:
        parser.error("this load test only runs against loopback (127.0.0.1, localhost or ::1)")
    offline: dict[str, float] = {}
    texts = passages(Path(args.file) if args.file else None, max_words=args.max_words)
    if args.serve:
        version_dir = args.serve.resolve()
        runs = []
        for backend in args.backends.split(","):
            with server(version_dir, backend, args.threads, SERVER_LOG, args.workers) as url:
                runs += asyncio.run(bench(args, url, texts, backend))
            if args.offline:
                # The same cores as the server: its threads times its processes, in one process.
                offline[backend] = offline_rate(version_dir, backend, args.threads * args.workers, texts, args.requests)
    else:
        runs = asyncio.run(bench(args, args.url, texts))
    print(table(runs, offline or None))
    for r in runs:
        for error in sorted(set(r.errors))[:5]:
            print(f"  {r.clients} clients: {error}", file=sys.stderr)
    return 1 if any(r.errors for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
