"""One text through every face (CLI classify, POST /v1/classify, POST /v1/jobs, framelens score): same scores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_face_gives_the_same_scores_for_the_same_text(home: Path) -> None:
    # bench/faces.py starts a real server and runs the CLI as a user would. The backend is set to int8 through
    # the one setting every face reads: on the tiny model "auto" may well resolve to torch, and a face that
    # ignored the setting and loaded torch would then go unnoticed.
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faces.py"), "--home", str(home), "--text", "Ceasefire talks in Geneva."],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "FRAMELENS_THREADS": "1", "FRAMELENS_BACKEND": "onnx-int8"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 differ between faces" in done.stdout and "backend: onnx-int8" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith(("frame ", "stance "))]
    assert len(rows) >= 4, done.stdout
