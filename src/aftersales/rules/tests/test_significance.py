"""The experiments' significance tests (rules.significance) equal scipy's, and reach the results."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.rules.significance import MIN_SAMPLE, mann_whitney_u, two_proportion_z

scipy_stats = pytest.importorskip("scipy.stats")

values = st.lists(st.integers(min_value=0, max_value=12).map(float), min_size=MIN_SAMPLE, max_size=40)


@settings(max_examples=150, deadline=None)
@given(values, values)
def test_mann_whitney_equals_scipy(a: list[float], b: list[float]) -> None:
    ours = mann_whitney_u("x", a, b)
    if len(set(a + b)) == 1:
        assert ours.p_value == 1.0
        return
    theirs = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.integers(5, 400), st.integers(5, 400), st.data())
def test_two_proportion_z_equals_the_chi_square_without_correction(n_a: int, n_b: int, data: Any) -> None:
    hits_a, hits_b = data.draw(st.integers(0, n_a)), data.draw(st.integers(0, n_b))
    ours = two_proportion_z("r", hits_a, n_a, hits_b, n_b)
    if hits_a + hits_b in (0, n_a + n_b):
        assert ours.p_value == 1.0
        return
    table = [[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]]
    _chi2, p, _dof, _expected = scipy_stats.chi2_contingency(table, correction=False)
    assert ours.p_value == pytest.approx(p, abs=1e-9)


def test_too_few_gives_no_verdict() -> None:
    assert mann_whitney_u("x", [1, 2, 3, 4], [1, 2, 3, 4, 5]).significant is None
    assert two_proportion_z("r", 1, 4, 1, 10).p_value is None


def test_a_clear_difference_is_significant() -> None:
    fast, slow = [1.0, 2, 2, 3, 1, 2, 3, 2], [20.0, 30, 25, 40, 22, 35, 28, 31]
    assert mann_whitney_u("resolution_hours", fast, slow).significant is True
    assert two_proportion_z("reopen_rate", 1, 100, 30, 100).significant is True
    assert two_proportion_z("reopen_rate", 10, 100, 11, 100).significant is False
