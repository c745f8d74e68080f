"""Calibrating an LLM provider's self-reported confidence (issue 11 §3, docs/adr/0023): a monotone map
from the confidence it reports to the accuracy observed on the corpus's held-out split, fitted by
isotonic regression. Applied at run time by triage.llm.calibrated (pure Python, no scikit-learn), so
only the fit needs this module: worker and management command only (scikit-learn is imported here,
lazily, never by a web process)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BINS = 10  # for the expected calibration error reported beside the fit


@dataclass(frozen=True)
class Calibration:
    points: tuple[tuple[float, float], ...]  # (reported, observed accuracy), increasing
    accuracy: float  # share of the answers whose intent was right
    mean_reported: float  # the mean confidence the provider reported
    ece_before: float  # expected calibration error of the reported confidence
    ece_after: float  # ... of the calibrated one (in-sample)

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": [list(p) for p in self.points],
            "accuracy": self.accuracy,
            "mean_reported": self.mean_reported,
            "ece_before": self.ece_before,
            "ece_after": self.ece_after,
        }


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], *, bins: int = BINS) -> float:
    """Sum over equal-width confidence bins of |mean confidence - accuracy| weighted by the bin's share."""
    total = len(confidence)
    if total == 0:
        return 0.0
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if (low <= c < high) or (b == bins - 1 and c == 1.0)]
        if not members:
            continue
        mean_confidence = sum(confidence[i] for i in members) / len(members)
        accuracy = sum(1 for i in members if correct[i]) / len(members)
        error += abs(mean_confidence - accuracy) * len(members) / total
    return round(error, 4)


def fit_calibration(reported: Sequence[float], correct: Sequence[bool]) -> Calibration:
    """Isotonic regression of correctness on reported confidence (increasing, clipped to 0..1 and to
    the range seen). The knots are what is stored; triage.llm.calibrated interpolates between them
    exactly as IsotonicRegression.predict does."""
    from sklearn.isotonic import IsotonicRegression

    from .llm import calibrated

    if len(reported) != len(correct) or not reported:
        raise ValueError("one correctness flag per reported confidence, at least one")
    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    model.fit([float(c) for c in reported], [1.0 if ok else 0.0 for ok in correct])
    points = tuple(
        (round(float(x), 4), round(float(y), 4)) for x, y in zip(model.X_thresholds_, model.y_thresholds_, strict=True)
    )
    after = [calibrated(c, points) for c in reported]
    return Calibration(
        points=points,
        accuracy=round(sum(correct) / len(correct), 4),
        mean_reported=round(sum(reported) / len(reported), 4),
        ece_before=expected_calibration_error(reported, correct),
        ece_after=expected_calibration_error(after, correct),
    )
