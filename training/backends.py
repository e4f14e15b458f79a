"""Backend parity: does ONNX Runtime (fp32, int8) score a version like torch does, and which backend is fastest?

`check_parity` exports the version's ONNX graphs if needed, compares each backend with torch on fixed passages
(largest score difference) and on the version's held-out dev and test splits (frames and stance macro-F1), times
each, and writes <version>/onnx/parity.json. `chosen_backend` names the fastest backend that passed;
`choose_backend` also loads it."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from framelens.model.backends import (
    BACKENDS,
    ONNX_FP32,
    ONNX_INT8,
    PARITY,
    TORCH,
    fastest_passing,
    read_parity,
    select_device,
)
from framelens.model.errors import FramelensError
from framelens.model.onnx_backend import ONNX_DIR, ensure_exported
from framelens.model.predictor import Predictor
from framelens.training.examples import Example, fingerprint, load_examples
from framelens.training.provenance import HELD_OUT, read_held_out, verified_files
from framelens.training.scoring import collect_raw, metrics_from_raw
from framelens.training.splits import split_examples

# Largest allowed |score - torch score| over the fixed passages (calibrated frame scores and stance
# probabilities), and largest allowed drop in held-out macro-F1 (frames, and stance where present). For int8 the
# score bound only catches a broken graph (quantization moves single scores by up to ~0.15 on MiniLM); whether
# its decisions hold is what the F1 bound checks.
MAX_SCORE_DIFF = {ONNX_FP32: 1e-3, ONNX_INT8: 0.2}
MAX_F1_DROP = 0.01

FIXED_PASSAGES = [
    "Kyiv and Moscow rule out a ceasefire as Western aid stalls in Congress.",
    "A new weapons package arrived as allies pledged more ammunition and air defence for the front.",
    "Civilians fled the shelled city overnight; refugees crossed the border with what they could carry.",
    "Diplomats met in Geneva to discuss a peace settlement, but neither side would give up territory.",
    "Energy prices rose again as sanctions bit, and farmers said grain exports had halved since spring.",
    "Parliament debated the aid bill for a third day; the opposition called it a blank cheque.",
    "NATO leaders promised to stand together, while the Kremlin warned of consequences for any escalation.",
    "Officials reported the figures without comment.",
    "The general said the counteroffensive had stalled. Soldiers described exhaustion after months in the "
    "trenches. At home, fewer people followed the news from the front, and polls showed support for talks "
    "rising. " * 6,
]


def held_out_examples(version_dir: Path, scheme: Any) -> tuple[list[Example], dict[str, Any]]:
    """The version's dev and test splits (labelled passages it was not trained on), from the data files its
    metadata names, when they are still there. Both splits, because a backend's decisions are compared on as many
    passages as there are: on the 165 dev passages of the default model, one flipped passage moves macro-F1 by
    about 0.01, the size of the bound."""
    copied = read_held_out(version_dir, scheme)
    if copied:
        return copied, {"n": len(copied), "splits": ["dev", "test"], "files": [HELD_OUT], "same_data_as_training": True}
    meta = json.loads((version_dir / "metadata.json").read_text(encoding="utf-8"))
    data = meta.get("data") or {}
    try:  # a version made before held-out copies were kept: its recorded files, if there and unchanged
        files = [Path(f) for f in verified_files(meta)]
    except FramelensError as exc:
        return [], {"n": 0, "skipped": str(exc)}
    if not files:
        return [], {"n": 0, "skipped": "no data files recorded"}
    examples = [ex for f in files for ex in load_examples(f, scheme)]
    splits = split_examples(examples)
    held_out = splits["dev"] + splits["test"]
    same = data.get("fingerprint") in (None, fingerprint(examples))
    info = {"n": len(held_out), "splits": ["dev", "test"], "files": [str(f) for f in files]}
    return held_out, {**info, "same_data_as_training": same}


def _scores(predictor: Predictor, texts: list[str]) -> np.ndarray:
    """Every calibrated number a user sees for `texts`, flattened: frame scores and stance probabilities."""
    values: list[float] = []
    for prediction in predictor.classify(texts, evidence=False):
        values += [f.score for f in prediction.frames]
        values += [p for s in prediction.stance.values() for p in s.scores.values()]
    return np.asarray(values, dtype=np.float64)


def _held_out_metrics(predictor: Predictor, examples: list[Example]) -> tuple[dict[str, float], float]:
    """Frames / stance macro-F1 on the held-out passages, and passages per second meanwhile (the speed recorded)."""
    a = predictor.artifact
    began = time.perf_counter()
    raw = collect_raw(predictor.net, a.tokenizer, a.spec, a.scheme, examples, predictor.batch_size)
    seconds = time.perf_counter() - began
    metrics = metrics_from_raw(raw, a.calibration, a.scheme)
    figures = {}
    if metrics.get("frames"):
        figures["frames_macro_f1"] = float(metrics["frames"]["macro_f1"])
    if metrics.get("stance"):
        figures["stance_macro_f1"] = float(metrics["stance"]["all"]["macro_f1"])
    return figures, len(examples) / max(seconds, 1e-9)


def _timed(predictor: Predictor, texts: list[str]) -> float:
    began = time.perf_counter()
    predictor.classify(texts, evidence=False)
    return len(texts) / max(time.perf_counter() - began, 1e-9)


def check_parity(
    version_dir: Path,
    backends: tuple[str, ...] = (ONNX_FP32, ONNX_INT8),
    threads: int | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Compare each backend with torch, record the result in <version>/onnx/parity.json, and return it."""
    version_dir = Path(version_dir)
    try:
        manifest, export_error = ensure_exported(version_dir, tuple(b for b in backends if b != TORCH)), None
    except Exception as exc:  # read-only folder, an encoder the exporter cannot trace: torch it is
        manifest, export_error = {}, f"export failed: {type(exc).__name__}: {exc}"
    reference = Predictor.load(version_dir, backend=TORCH, threads=threads, device=device)
    held_out, held_out_info = held_out_examples(version_dir, reference.scheme)
    texts = FIXED_PASSAGES + [ex.text for ex in held_out[:64]]
    record: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": reference.device,
        "threads": threads,
        "passages": len(texts),
        "held_out": held_out_info,
        "rule": {"max_score_diff": MAX_SCORE_DIFF, "max_f1_drop": MAX_F1_DROP},
        "backends": {},
    }
    base = _scores(reference, texts)  # also the warm-up before timing
    base_figures: dict[str, float] = {}
    for name in (TORCH, *backends):
        entry: dict[str, Any]
        try:
            if name != TORCH and export_error:
                raise FramelensError(export_error)
            predictor = reference if name == TORCH else Predictor.load(version_dir, backend=name, threads=threads)
            diff = float(np.abs(_scores(predictor, texts) - base).max()) if len(base) else 0.0
            figures, speed = _held_out_metrics(predictor, held_out) if held_out else ({}, 0.0)
            # Speed is the better of two timings (another process can steal a core during one).
            speed = max(speed, _timed(predictor, [ex.text for ex in held_out[:96]] or FIXED_PASSAGES * 4))
            base_figures = figures if name == TORCH else base_figures
            drops = {k: base_figures[k] - v for k, v in figures.items() if k in base_figures}
            entry = {"max_score_diff": diff, "held_out": figures, "f1_drop": drops, "passages_per_s": speed}
            # Fail closed: a backend passes only when held-out F1 was actually compared, never on an empty set.
            compared = bool(drops) and len(drops) == len(base_figures)
            entry["passed"] = name == TORCH or (
                compared and diff <= MAX_SCORE_DIFF.get(name, 0.0) and all(d <= MAX_F1_DROP for d in drops.values())
            )
            if name != TORCH and not compared:
                entry["reason"] = "no held-out passages to compare F1 on: " + str(held_out_info.get("skipped", "none"))
            if name != TORCH:
                entry["sha256"] = manifest["files"][name]["sha256"]
        except Exception as exc:  # a backend that cannot run simply does not pass
            entry = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
        record["backends"][name] = entry
    path = version_dir / ONNX_DIR / PARITY
    tmp = path.with_name(f".{PARITY}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only version: the record still decides for this process
        tmp.unlink(missing_ok=True)
    return record


def choose_backend(
    version_dir: str | Path,
    candidates: tuple[str, ...] = BACKENDS,
    threads: int | None = None,
    device: str | None = None,
    recheck: bool = False,
) -> tuple[str, Predictor]:
    """`chosen_backend`, and a Predictor on it with `threads`."""
    name = chosen_backend(version_dir, candidates, threads, device, recheck)
    return name, Predictor.load(Path(version_dir), backend=name, threads=threads, device=device)


def chosen_backend(
    version_dir: str | Path,
    candidates: tuple[str, ...] = BACKENDS,
    threads: int | None = None,
    device: str | None = None,
    recheck: bool = False,
) -> str:
    """The fastest of `candidates` that passed parity (checked now if never recorded for this device, or if
    `recheck`). Torch is the reference and always qualifies. Nothing is loaded once a record exists."""
    path = Path(version_dir)
    on = select_device(device).type
    record = read_parity(path)
    others = tuple(b for b in candidates if b != TORCH)
    # Parity (scores, F1) does not depend on the thread count, and the speed order of the backends did not change
    # between 1 and 2 threads here (int8 > fp32 > torch), so a record made with other threads still decides; a
    # server restarted with another FRAMELENS_THREADS does not re-export while /readyz says loading.
    stale = record is None or record.get("device") != on
    if others and (recheck or stale or any(b not in (record or {}).get("backends", {}) for b in others)):
        record = check_parity(path, others, threads, device)
    return fastest_passing(record, path, on, candidates)
