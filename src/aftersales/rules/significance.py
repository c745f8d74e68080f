"""Significance of an A/B experiment's difference between its arms (docs/rules.md "Experiments"):
pure functions, no scipy (the web process stays light; the tests check them against scipy).

- Proportions (reopen rate): the two-proportion z-test with a pooled standard error.
- Distributions (resolution hours, CSAT ratings): the Mann-Whitney U test, two-sided, normal
  approximation with the tie correction and a continuity correction (scipy's `method="asymptotic"`).

Below MIN_SAMPLE observations in either arm no p-value is given ("too few")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SAMPLE = 5
ALPHA = 0.05


@dataclass(frozen=True)
class SignificanceTest:
    metric: str  # resolution_hours, csat, reopen_rate
    method: str  # mann_whitney_u, two_proportion_z
    n_treatment: int
    n_control: int
    statistic: float | None
    p_value: float | None  # None: too few observations

    @property
    def significant(self) -> bool | None:
        return None if self.p_value is None else self.p_value < ALPHA


def _two_sided_normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def two_proportion_z(metric: str, hits_a: int, n_a: int, hits_b: int, n_b: int) -> SignificanceTest:
    """H0: both arms have the same rate (hits / n)."""
    if n_a < MIN_SAMPLE or n_b < MIN_SAMPLE:
        return SignificanceTest(metric, "two_proportion_z", n_a, n_b, None, None)
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:  # both rates 0 % or both 100 %: no difference to test
        return SignificanceTest(metric, "two_proportion_z", n_a, n_b, 0.0, 1.0)
    z = (hits_a / n_a - hits_b / n_b) / se
    return SignificanceTest(metric, "two_proportion_z", n_a, n_b, z, _two_sided_normal_p(z))


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) and the sizes of the tie groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        average = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = average
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney_u(metric: str, a: Sequence[float], b: Sequence[float]) -> SignificanceTest:
    """H0: a value from either arm is as likely to be the larger. Returns U of the first arm."""
    n1, n2 = len(a), len(b)
    if n1 < MIN_SAMPLE or n2 < MIN_SAMPLE:
        return SignificanceTest(metric, "mann_whitney_u", n1, n2, None, None)
    ranks, ties = _ranks([*a, *b])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    mean = n1 * n2 / 2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1))
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:  # every value equal
        return SignificanceTest(metric, "mann_whitney_u", n1, n2, u1, 1.0)
    u = max(u1, n1 * n2 - u1)
    z = (u - mean - 0.5) / math.sqrt(variance)
    return SignificanceTest(metric, "mann_whitney_u", n1, n2, u1, min(1.0, 2 * (1 - _normal_cdf(z))))


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))
