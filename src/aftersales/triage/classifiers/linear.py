"""A linear head stored as plain arrays (no estimator object at prediction time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

SEED = 20261206


@dataclass
class LinearHead:
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features) float32
    intercept: np.ndarray  # (n_classes,) float32
    temperature: float = 1.0

    def logits(self, features: Any) -> np.ndarray:
        return np.asarray(features @ self.coef.T) + self.intercept

    def proba(self, features: Any) -> np.ndarray:
        return softmax(self.logits(features) / self.temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def fit_head(features: Any, labels: list[str], *, c: float) -> LinearHead:
    """Multinomial logistic regression, deterministic (lbfgs, fixed seed, class weights balanced)."""
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=SEED)
    model.fit(features, labels)
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if len(model.classes_) == 2:  # sklearn stores one row for two classes
        coef = np.vstack([-coef[0], coef[0]])
        intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32)
    return LinearHead(tuple(str(c) for c in model.classes_), coef, intercept)


def fit_temperature(head: LinearHead, features: Any, labels: list[str]) -> float:
    """The temperature minimising the negative log-likelihood of `labels` (grid search: robust and
    deterministic on a few hundred dev messages)."""
    index = {c: i for i, c in enumerate(head.classes)}
    rows = [(i, index[label]) for i, label in enumerate(labels) if label in index]
    if not rows:
        return 1.0
    logits = head.logits(features)
    best, best_nll = 1.0, float("inf")
    for temperature in np.arange(0.3, 4.01, 0.05):
        p = softmax(logits / temperature)
        nll = -float(np.mean([np.log(max(p[i, j], 1e-12)) for i, j in rows]))
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return round(best, 2)
