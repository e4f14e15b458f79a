"""One text through every face (CLI classify, POST /v1/classify, POST /v1/jobs, framelens score): same scores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_face_gives_the_same_scores_for_the_same_text(home: Path) -> None:
    # bench/faces.py starts a real server and runs the CLI on the default backend ("auto"), as a user would.
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faces.py"), "--home", str(home), "--text", "Ceasefire talks in Geneva."],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "FRAMELENS_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 differ between faces" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith(("frame ", "stance "))]
    assert len(rows) >= 4, done.stdout
