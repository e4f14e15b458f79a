"""LocalScorer: a chunk of records scored by a Predictor in this process (also what each Ray actor runs).

With a `HostPool` (`framelens score --host-workers N`), each chunk is split into one part per worker: the workers
split, window, aggregate and build the output rows, and this process's network scores every part's batches. The
rows come back in the chunk's order, so the output and its resume points are those of one process."""

from __future__ import annotations

import logging

from framelens.model.host_pool import HostPool
from framelens.model.inference import make_documents
from framelens.model.prediction import TextPrediction
from framelens.model.predictor import Predictor
from framelens.serve.scoring.engine import ScoredChunk, ScoreOptions
from framelens.serve.scoring.records import Record
from framelens.serve.scoring.rows import article_row, window_row

log = logging.getLogger("framelens.scoring")


class LocalScorer:
    engine = "local"

    def __init__(self, predictor: Predictor, pool: HostPool | None = None) -> None:
        self.predictor = predictor
        self.pool = pool

    @property
    def version(self) -> str:
        return self.predictor.version

    def score(self, records: list[Record], options: ScoreOptions) -> ScoredChunk:
        if self.pool is None or len(records) < 2:
            return self.score_here(records, options)
        size = -(-len(records) // self.pool.workers)
        parts = [(records[i : i + size], options) for i in range(0, len(records), size)]
        merged = ScoredChunk()
        for part in self.pool.map(_score_part, parts):
            merged.articles += part.articles
            merged.windows += part.windows
            merged.errors += part.errors
            merged.n_windows += part.n_windows
        return merged

    def score_here(self, records: list[Record], options: ScoreOptions) -> ScoredChunk:
        chunk = ScoredChunk()
        targets = list(options.targets) if options.targets is not None else None
        try:
            predictions: list[TextPrediction | Exception] = list(
                self.predictor.classify([r.text for r in records], targets=targets, evidence=options.evidence)
            )
        except Exception:  # one record the model cannot read must not cost the chunk: find it
            predictions = [self._one(r, targets, options.evidence) for r in records]
        scored = []
        for record, prediction in zip(records, predictions, strict=True):
            if isinstance(prediction, Exception):
                chunk.errors.append({"where": record.where, "id": record.id, "reason": f"not scored: {prediction}"})
                continue
            chunk.articles.append(article_row(record, prediction, options.evidence))
            chunk.n_windows += prediction.windows
            scored.append(record)
        if options.windows and scored:
            chunk.windows = self._window_rows(scored, targets)
        return chunk

    def _one(self, record: Record, targets: list[str] | None, evidence: bool) -> TextPrediction | Exception:
        try:
            return self.predictor.classify([record.text], targets=targets, evidence=evidence)[0]
        except Exception as exc:
            log.warning("record %s not scored: %s", record.where, exc)
            return exc

    def _window_rows(self, records: list[Record], targets: list[str] | None) -> list[dict[str, object]]:
        """Each window the article was read in, scored on its own (its text is within one window's budget)."""
        p = self.predictor
        docs = make_documents([r.text for r in records], p.artifact.tokenizer, p.artifact.spec, p.scheme.has_stance)
        spans = [(r, k, w.start, w.end) for r, d in zip(records, docs, strict=True) for k, w in enumerate(d.windows)]
        if not spans:
            return []
        texts = [r.text[start:end] for r, _, start, end in spans]
        predictions = p.classify(texts, targets=targets, evidence=False)
        return [
            window_row(record, k, start, end, prediction)
            for (record, k, start, end), prediction in zip(spans, predictions, strict=True)
        ]


def _score_part(predictor: Predictor, part: tuple[list[Record], ScoreOptions]) -> ScoredChunk:
    """A host-pool task: one part of a chunk, scored in a worker as this process would score it."""
    records, options = part
    predictor.net.token_logits_wanted = options.evidence  # type: ignore[attr-defined]
    return LocalScorer(predictor).score_here(records, options)
