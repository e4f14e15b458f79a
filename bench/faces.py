"""One passage through every face of framelens, scores printed side by side: they must be identical.

    python bench/faces.py [--home models] [--text "…"]

Faces: `framelens classify`, `POST /v1/classify` and `POST /v1/jobs` on a real `framelens serve` on loopback,
and `framelens score`. All build their predictor with the one factory and the same settings
(FRAMELENS_BACKEND, default auto), so every frame score and stance probability must agree exactly. Exits 1 if
any differs."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = (
    "Kyiv and Moscow ruled out a ceasefire on Tuesday as a $60 billion aid bill stayed stuck in the House, "
    "and the Pentagon warned that Ukraine's air defence interceptors would run short by spring."
)
Scores = dict[str, float]


def _cli(home: Path, *args: str) -> str:
    command = [sys.executable, "-m", "framelens.serve.cli", "--home", str(home), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:1])} failed:\n{done.stderr}")
    return done.stdout


def _flat(frames: dict[str, float], stance: dict[str, dict[str, float]]) -> Scores:
    flat = {f"frame {k}": float(v) for k, v in frames.items()}
    flat |= {f"stance {t} {label}": float(p) for t, probs in stance.items() for label, p in probs.items()}
    return flat


def _from_result(result: dict[str, Any]) -> Scores:
    return _flat(
        {f["label"]: f["score"] for f in result["frames"]}, {t: s["scores"] for t, s in result["stance"].items()}
    )


def _from_row(row: dict[str, Any]) -> Scores:
    return _flat(row["scores"], row["stance_scores"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _served(home: Path, text: str, archive: Path, log: Path) -> tuple[Scores, Scores]:
    """POST /v1/classify and a POST /v1/jobs upload, on a real server started for this run."""
    from framelens.serve.auth import hash_key

    key, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "FRAMELENS_HOME": str(home), "FRAMELENS_API_KEY_HASHES": hash_key(key)}
    env.pop("FRAMELENS_VERSION", None)
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "framelens.serve.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            deadline = time.monotonic() + 300
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not become ready:\n" + log.read_text())
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            api = client.post("/v1/classify", json={"text": text, "evidence": False}).json()["results"][0]
            files = {"file": (archive.name, archive.read_bytes(), "application/x-ndjson")}
            job = client.post("/v1/jobs", files=files, data={"evidence": "false"}, headers=headers).json()
            while (state := client.get(f"/v1/jobs/{job['id']}").json())["state"] not in ("done", "failed"):
                time.sleep(0.2)
            if state["state"] != "done":
                raise SystemExit(f"the job failed: {state}")
            row = json.loads(client.get(f"/v1/jobs/{job['id']}/results").text.splitlines()[0])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return _from_result(api), _from_row(row)


def scores_by_face(home: Path, text: str) -> dict[str, Scores]:
    with tempfile.TemporaryDirectory(prefix="framelens-faces-") as scratch:
        folder = Path(scratch)
        archive = folder / "one.jsonl"
        archive.write_text(json.dumps({"id": "faces-1", "text": text}) + "\n", encoding="utf-8")
        classify = json.loads(_cli(home, "classify", "--no-evidence", text).splitlines()[0])
        api, job = _served(home, text, archive, folder / "server.log")
        _cli(home, "score", str(archive), "-o", str(folder / "scores.jsonl"), "--no-evidence", "--quiet")
        score = json.loads((folder / "scores.jsonl").read_text(encoding="utf-8").splitlines()[0])
    return {
        "framelens classify": _from_result(classify),
        "POST /v1/classify": api,
        "POST /v1/jobs": job,
        "framelens score": _from_row(score),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=os.environ.get("FRAMELENS_HOME", "models"))
    parser.add_argument("--text", default=TEXT)
    args = parser.parse_args()
    faces = scores_by_face(Path(args.home).resolve(), args.text)
    names = list(faces)
    keys = list(faces[names[0]])
    print(f"backend: {os.environ.get('FRAMELENS_BACKEND', 'auto')}; text: {args.text[:70]}…")
    print(f"{'':<32}" + "".join(f"{n:>20}" for n in names))
    differing = 0
    for key in keys:
        values = [faces[n].get(key, float("nan")) for n in names]
        same = all(v == values[0] for v in values)
        differing += not same
        print(f"{key:<32}" + "".join(f"{v:>20.6f}" for v in values) + ("" if same else "   <- differs"))
    print(f"{len(keys)} scores, {differing} differ between faces")
    return 1 if differing or any(set(faces[n]) != set(keys) for n in names) else 0


if __name__ == "__main__":
    raise SystemExit(main())
