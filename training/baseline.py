"""The yardstick: TF-IDF + logistic regression on the same split, thresholds tuned on the same dev set."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from framelens.model.scheme import Scheme
from framelens.training.calibration import best_threshold
from framelens.training.evaluation import frame_metrics, stance_metrics
from framelens.training.examples import Example
from framelens.training.scoring import frame_gold


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=100_000)


def baseline_metrics(scheme: Scheme, train: list[Example], dev: list[Example], test: list[Example]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if scheme.has_frames:
        out["frames"] = _frames(
            scheme,
            [e for e in train if e.frames_labelled],
            [e for e in dev if e.frames_labelled],
            [e for e in test if e.frames_labelled],
        )
    if scheme.has_stance:
        out["stance"] = _stance(scheme, train, test)
    return {k: v for k, v in out.items() if v}


def _frames(scheme: Scheme, train: list[Example], dev: list[Example], test: list[Example]) -> dict[str, Any]:
    if not train or not test:
        return {}
    vec = _vectorizer().fit([e.text for e in train])
    x_train, x_dev, x_test = (vec.transform([e.text for e in part]) for part in (train, dev, test))
    y_train, y_dev, y_test = (frame_gold(scheme, part) for part in (train, dev, test))
    scores = np.zeros(y_test.shape)
    predicted = np.zeros(y_test.shape, dtype=int)
    for j in range(len(scheme.frames)):
        if y_train[:, j].min() == y_train[:, j].max():
            continue  # a frame with one class in train: the baseline predicts the constant
        clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(x_train, y_train[:, j])
        cut = best_threshold(clf.predict_proba(x_dev)[:, 1], y_dev[:, j]) if len(dev) else 0.5
        scores[:, j] = clf.predict_proba(x_test)[:, 1]
        predicted[:, j] = scores[:, j] >= cut
    return frame_metrics(scheme.frame_names, y_test, predicted, scores)


def _pairs(examples: list[Example]) -> tuple[list[str], list[str], list[str]]:
    texts, labels, targets = [], [], []
    for ex in examples:
        for target, label in ex.stance.items():
            # The target's words become features of their own, so one model serves every target.
            texts.append(" ".join(f"T_{w}" for w in target.lower().split()) + " " + ex.text)
            labels.append(label)
            targets.append(target)
    return texts, labels, targets


def _stance(scheme: Scheme, train: list[Example], test: list[Example]) -> dict[str, Any]:
    x_train, y_train, _ = _pairs(train)
    x_test, y_test, t_test = _pairs(test)
    if not x_train or not x_test or len(set(y_train)) < 2:
        return {}
    vec = _vectorizer().fit(x_train)
    clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(vec.transform(x_train), y_train)
    probs = clf.predict_proba(vec.transform(x_test))
    classes = list(clf.classes_)
    records = [
        (t, g, classes[int(np.argmax(p))], float(p.max())) for t, g, p in zip(t_test, y_test, probs, strict=True)
    ]
    return stance_metrics(list(scheme.stance_labels), records)
