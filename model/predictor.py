"""Predictor: a loaded model version that turns texts into frames, stance and evidence."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from framelens.model.artifact import Artifact, load_artifact
from framelens.model.backends import AUTO, BACKENDS, TORCH, TorchScorer, recorded_choice, select_device
from framelens.model.errors import FramelensError
from framelens.model.inference import DocumentScores, ScoringNet, make_documents, score_documents
from framelens.model.prediction import Evidence, FrameResult, StanceResult, TextPrediction
from framelens.model.windows import Document


class Predictor:
    """`backend` names what scores ("torch", "onnx-fp32", "onnx-int8"); `prefetch` overlaps tokenization with
    compute (off by default, see below); `batch_size` windows per forward pass."""

    def __init__(
        self,
        artifact: Artifact,
        version: str = "unversioned",
        net: ScoringNet | None = None,
        backend: str = TORCH,
        device: str | None = None,
    ) -> None:
        self.artifact = artifact
        self.version = version
        self.scheme = artifact.scheme
        self.backend = backend
        self.net: ScoringNet = net if net is not None else TorchScorer(artifact.net, device)
        on_gpu = isinstance(self.net, TorchScorer) and self.net.device.type == "cuda"
        self.device = "cuda" if on_gpu else "cpu"
        # On 2 CPU cores small batches were fastest for every backend (MiniLM, ~110 tokens: torch 51/s at 8 vs
        # 47/s at 32; ONNX fp32 61 vs 55); a GPU wants big ones.
        self.batch_size = 256 if on_gpu else 8
        # Off by default, GPU too: on an H200 with 16 cores the background thread that builds the next documents
        # and batches made the whole path slower (2,010 vs 3,270 passages/s; 1,744 vs 2,015 before tokenize-once):
        # the GPU's share is ~10% of the host's, so there is little to overlap and the GIL hand-offs cost more.
        self.prefetch = False
        self.chunk_size = 4096  # with prefetch: documents for the next chunk are built while this one scores
        self._doc_tokenizer: Any = None

    @classmethod
    def load(
        cls, directory: str | Path, backend: str = TORCH, threads: int | None = None, device: str | None = None
    ) -> Predictor:
        """`backend`: "torch" (default), "onnx-fp32", "onnx-int8" (exported on first use, cached beside the
        version), or "auto": the fastest backend that passed the parity check recorded for this version
        (see training.backends.choose_backend, which runs that check). `threads`: torch / ONNX Runtime threads."""
        path = Path(directory)
        if backend == AUTO:
            backend = recorded_choice(path, select_device(device).type)
        if backend not in BACKENDS:
            raise FramelensError(f"unknown backend {backend!r}; use one of {[*BACKENDS, AUTO]}")
        if backend == TORCH:
            if threads:
                torch.set_num_threads(threads)
            return cls(load_artifact(path), version=path.name, backend=TORCH, device=device)
        from framelens.model.onnx_net import load_onnx_net

        net = load_onnx_net(path, backend, threads)
        return cls(load_artifact(path, weights=False), version=path.name, net=net, backend=backend)

    def sibling(self) -> Predictor:
        """The same network and calibration with a tokenizer of its own, for another thread: a fast tokenizer
        must not serve two threads at once, while an ONNX Runtime session or a torch module in eval mode may."""
        twin = copy.copy(self)
        twin.artifact = dataclasses.replace(self.artifact, tokenizer=copy.deepcopy(self.artifact.tokenizer))
        twin._doc_tokenizer = None
        return twin

    def classify(
        self,
        texts: list[str],
        targets: list[str] | None = None,
        evidence: bool = True,
        thresholds: dict[str, float] | None = None,
        max_evidence: int = 3,
    ) -> list[TextPrediction]:
        """Label each text; `targets` defaults to the scheme's stance targets."""
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise FramelensError(f"text {i} is empty: send non-empty text")
        use_targets = self._targets(targets)
        unknown = set(thresholds or {}) - set(self.scheme.frame_names)
        if unknown:
            raise FramelensError(f"threshold for unknown frame(s) {sorted(unknown)}; frames: {self.scheme.frame_names}")
        return [
            self._format(doc, scores, thresholds, max_evidence)
            for docs, raw in self._scored(texts, use_targets, evidence)
            for doc, scores in zip(docs, raw, strict=True)
        ]

    def _scored(
        self, texts: list[str], targets: list[str], evidence: bool
    ) -> Iterator[tuple[list[Document], list[DocumentScores]]]:
        """Documents and raw scores, chunk by chunk. With prefetch, the next chunk's documents are built on a
        second thread (with its own tokenizer: a fast tokenizer must not serve two threads at once)."""
        a = self.artifact

        def documents(chunk: list[str], tokenizer: Any) -> list[Document]:
            return make_documents(chunk, tokenizer, a.spec, with_stance=self.scheme.has_stance)

        def score(docs: list[Document]) -> list[DocumentScores]:
            per_doc = [targets] * len(docs)
            return score_documents(
                self.net, a.tokenizer, a.spec, docs, per_doc, self.batch_size, evidence, prefetch=self.prefetch
            )

        if not self.prefetch or len(texts) <= self.chunk_size:
            docs = documents(texts, a.tokenizer)
            yield docs, score(docs)
            return
        if self._doc_tokenizer is None:
            self._doc_tokenizer = copy.deepcopy(a.tokenizer)
        chunks = [texts[i : i + self.chunk_size] for i in range(0, len(texts), self.chunk_size)]
        with ThreadPoolExecutor(1, thread_name_prefix="framelens-documents") as pool:
            upcoming: Future[list[Document]] = pool.submit(documents, chunks[0], self._doc_tokenizer)
            for k in range(len(chunks)):
                docs = upcoming.result()
                if k + 1 < len(chunks):
                    upcoming = pool.submit(documents, chunks[k + 1], self._doc_tokenizer)
                yield docs, score(docs)

    def _targets(self, targets: list[str] | None) -> list[str]:
        if not self.scheme.has_stance:
            return []
        chosen = list(self.scheme.default_targets) if targets is None else targets
        cleaned = []
        for t in chosen:
            if not isinstance(t, str) or not t.strip():
                raise FramelensError("a stance target is empty: name a country, policy or person")
            cleaned.append(t.strip())
        spec = self.artifact.spec
        if spec.stance_targets:
            by_name = {t.casefold(): t for t in spec.stance_targets}
            unknown = [t for t in cleaned if t.casefold() not in by_name]
            if unknown and not spec.open_targets:
                raise FramelensError(
                    f"this model was trained for stance toward {list(spec.stance_targets)} only, not {unknown}; "
                    "ask for those targets, or train with stance_mode 'hybrid' or 'paired' for open-ended targets"
                )
            cleaned = [by_name.get(t.casefold(), t) for t in cleaned]
        return list(dict.fromkeys(cleaned))

    def _seen(self, target: str) -> bool:
        spec = self.artifact.spec
        if spec.stance_targets and not spec.open_targets:
            return True  # heads only: every target it answers is one it was trained for
        return spec.seen(target) or not spec.trained_targets  # versions before trained_targets was kept

    def _format(
        self, doc: Document, raw: DocumentScores, thresholds: dict[str, float] | None, max_evidence: int
    ) -> TextPrediction:
        cal, names = self.artifact.calibration, self.scheme.frame_names
        frames: list[FrameResult] = []
        if names:
            scores = cal.frame_scores(raw.frame_logits[None, :], names, raw.n_windows)[0]
            cuts = cal.threshold_vector(names, thresholds)
            # No sentence was scored when evidence was not asked for: then no frame gets any.
            read = bool(np.isfinite(raw.sentence_frame_logits).any())
            sentence_scores = (
                cal.frame_scores(np.nan_to_num(raw.sentence_frame_logits, nan=-50.0), names) if read else None
            )
            for j, name in enumerate(names):
                predicted = bool(scores[j] >= cuts[j])
                why = (
                    self._evidence(doc, sentence_scores[:, j], cuts[j], max_evidence)
                    if predicted and sentence_scores is not None
                    else []
                )
                frames.append(FrameResult(name, round(float(scores[j]), 6), predicted, why))
        stance: dict[str, StanceResult] = {}
        for target, logits in raw.stance_logits.items():
            probs = cal.stance_scores(logits[None, :])[0]
            best = int(cal.stance_decision(probs[None, :])[0])
            ev: list[Evidence] = []
            if target in raw.sentence_stance_logits and doc.sentences:
                sent_probs = cal.stance_scores(np.nan_to_num(raw.sentence_stance_logits[target], nan=-50.0))
                ev = self._evidence(doc, sent_probs[:, best], 0.0, min(max_evidence, 2))
            labels = self.scheme.stance_labels
            stance[target] = StanceResult(
                labels[best],
                {lab: round(float(p), 6) for lab, p in zip(labels, probs, strict=True)},
                ev,
                seen_in_training=self._seen(target),
            )
        return TextPrediction(frames, stance, raw.n_windows, self.version)

    @staticmethod
    def _evidence(doc: Document, scores: np.ndarray, threshold: float, limit: int) -> list[Evidence]:
        """The sentences that drove a label: those above the threshold, strongest first (at least one)."""
        order = np.argsort(-scores)
        chosen = [i for i in order[:limit] if scores[i] >= threshold] or [int(order[0])] if len(order) else []
        return [
            Evidence(
                doc.sentences[i].text,
                doc.sentences[i].start,
                doc.sentences[i].end,
                round(float(scores[i]), 6),
            )
            for i in chosen
        ]
