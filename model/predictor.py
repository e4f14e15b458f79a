"""Predictor: a loaded model version that turns texts into frames, stance and evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.artifact import Artifact, load_artifact
from model.errors import FramelensError
from model.inference import DocumentScores, make_documents, score_documents
from model.prediction import Evidence, FrameResult, StanceResult, TextPrediction
from model.windows import Document


class Predictor:
    def __init__(self, artifact: Artifact, version: str = "unversioned") -> None:
        self.artifact = artifact
        self.version = version
        self.scheme = artifact.scheme
        self.batch_size = 32

    @classmethod
    def load(cls, directory: str | Path) -> Predictor:
        path = Path(directory)
        return cls(load_artifact(path), version=path.name)

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
        a = self.artifact
        docs = make_documents(texts, a.tokenizer, a.spec, with_stance=self.scheme.has_stance)
        raw = score_documents(a.net, a.tokenizer, a.spec, docs, [use_targets] * len(docs), self.batch_size, evidence)
        return [self._format(doc, scores, thresholds, max_evidence) for doc, scores in zip(docs, raw, strict=True)]

    def _targets(self, targets: list[str] | None) -> list[str]:
        if not self.scheme.has_stance:
            return []
        chosen = list(self.scheme.default_targets) if targets is None else targets
        cleaned = []
        for t in chosen:
            if not isinstance(t, str) or not t.strip():
                raise FramelensError("a stance target is empty: name a country, policy or person")
            cleaned.append(t.strip())
        return list(dict.fromkeys(cleaned))

    def _format(
        self, doc: Document, raw: DocumentScores, thresholds: dict[str, float] | None, max_evidence: int
    ) -> TextPrediction:
        cal, names = self.artifact.calibration, self.scheme.frame_names
        frames: list[FrameResult] = []
        if names:
            scores = cal.frame_scores(raw.frame_logits[None, :], names)[0]
            cuts = cal.threshold_vector(names, thresholds)
            sentence_scores = cal.frame_scores(np.nan_to_num(raw.sentence_frame_logits, nan=-50.0), names)
            for j, name in enumerate(names):
                predicted = bool(scores[j] >= cuts[j])
                why = self._evidence(doc, sentence_scores[:, j], cuts[j], max_evidence) if predicted else []
                frames.append(FrameResult(name, round(float(scores[j]), 6), predicted, why))
        stance: dict[str, StanceResult] = {}
        for target, logits in raw.stance_logits.items():
            probs = cal.stance_scores(logits[None, :])[0]
            best = int(np.argmax(probs))
            ev: list[Evidence] = []
            if target in raw.sentence_stance_logits and doc.sentences:
                sent_probs = cal.stance_scores(np.nan_to_num(raw.sentence_stance_logits[target], nan=-50.0))
                ev = self._evidence(doc, sent_probs[:, best], 0.0, min(max_evidence, 2))
            labels = self.scheme.stance_labels
            stance[target] = StanceResult(
                labels[best], {lab: round(float(p), 6) for lab, p in zip(labels, probs, strict=True)}, ev
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
