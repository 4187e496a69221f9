"""The exact test and intervals against published and hand-computed values."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.significance import (
    bootstrap_interval,
    fisher_exact,
    fisher_one_sided,
    holm,
    newcombe_interval,
    stratified_exact,
)


def test_fisher_exact_published_values():
    # Fisher's tea-tasting table: two-sided p = 34/70 (R's fisher.test gives 0.4857).
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70, rel=1e-12)
    # Wikipedia's dieting example [[1, 9], [11, 3]]: the observed table has probability
    # C(10,1)C(14,11)/C(24,12) = 0.001346, the one more extreme 0.000034: one-sided 0.00138;
    # two-sided p = 0.002759.
    assert fisher_exact(1, 9, 11, 3) == pytest.approx(0.0027594562, rel=1e-8)
    observed = comb(10, 1) * comb(14, 11) / comb(24, 12)
    assert observed == pytest.approx(0.001346, abs=5e-7)
    assert fisher_one_sided(9, 1, 3, 11) == pytest.approx(0.00138, abs=5e-6)


def test_fisher_exact_hand_computed():
    # 10/10 -> 2/10: margins 10, 10, 12 passes; the two extreme tables a=10 and a=2 each
    # have C(12,10)*C(8,0) = 66 of C(20,10) = 184756 ways; nothing else is as unlikely.
    assert fisher_exact(10, 0, 2, 8) == pytest.approx(132 / 184756, rel=1e-12)
    # 5/10 -> 4/10: the observed table is the most likely one, so every table counts: p = 1.
    assert fisher_exact(5, 5, 4, 6) == 1.0
    # 15/20 -> 6/20: symmetric margins (21 passes of 40), tails a >= 15 and a <= 6.
    tail = sum(comb(20, a) * comb(20, 21 - a) for a in range(15, 21))
    assert fisher_exact(15, 5, 6, 14) == pytest.approx(float(Fraction(2 * tail, comb(40, 21))))
    assert fisher_exact(15, 5, 6, 14) == pytest.approx(0.0103867, abs=1e-7)


def test_fisher_degenerate_tables():
    assert fisher_exact(0, 0, 0, 0) == 1.0
    assert fisher_exact(3, 0, 3, 0) == 1.0  # nobody failed: nothing to test
    assert fisher_exact(1, 0, 0, 1) == 1.0  # 1/1 -> 0/1 is no evidence at all
    with pytest.raises(ValueError):
        fisher_exact(-1, 2, 3, 4)


@given(st.tuples(*[st.integers(0, 12)] * 4))
def test_fisher_is_a_probability_and_symmetric(t):
    a, b, c, d = t
    p = fisher_exact(a, b, c, d)
    assert 0.0 < p <= 1.0
    assert p == pytest.approx(fisher_exact(c, d, a, b), rel=1e-9)  # old/new swapped
    assert p == pytest.approx(fisher_exact(b, a, d, c), rel=1e-9)  # pass/fail swapped
    # Two-sided is never below either one-sided tail's share of it.
    assert p >= min(fisher_one_sided(a, b, c, d), fisher_one_sided(c, d, a, b)) - 1e-12


def test_stratified_exact_hand_computed():
    # Two tasks, each 1/1 -> 0/1: each old count is 0 or 1 with chance 1/2, so the total S
    # is 0, 1, 2 with 1/4, 1/2, 1/4; S = 2 observed: p = 1/4 + 1/4.
    assert stratified_exact([(1, 0, 0, 1), (1, 0, 0, 1)]) == (0.5, 1.0)
    # 2/2 -> 0/2 and 1/1 -> 0/1: weights (1, 4, 1)/6 and (1, 1)/2 convolve to
    # (1, 5, 5, 1)/12; S = 3 observed: p = 2/12. (Pooled, 3/3 -> 0/3, Fisher says 0.1.)
    p, expected = stratified_exact([(2, 0, 0, 2), (1, 0, 0, 1)])
    assert p == pytest.approx(1 / 6) and expected == 1.5
    # A task whose margins leave nothing to vary (everyone passed) adds a constant only.
    assert stratified_exact([(1, 0, 0, 1), (1, 0, 0, 1), (3, 0, 2, 0)]) == (0.5, 4.0)
    assert stratified_exact([]) == (1.0, 0.0)


@given(st.tuples(*[st.integers(0, 12)] * 4))
def test_one_stratum_is_fishers_test(t):
    assert stratified_exact([t])[0] == pytest.approx(fisher_exact(*t), rel=1e-9)


def test_newcombe_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 - 48/80 = 0.2; the hybrid
    # score interval (method 10) is 0.0524 to 0.3339.
    lo, hi = newcombe_interval(48, 80, 56, 70)
    assert lo == pytest.approx(0.0524, abs=5e-5) and hi == pytest.approx(0.3339, abs=5e-5)
    lo, hi = newcombe_interval(56, 70, 48, 80)  # the other direction mirrors it
    assert lo == pytest.approx(-0.3339, abs=5e-5) and hi == pytest.approx(-0.0524, abs=5e-5)


def test_holm_hand_computed():
    # sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([]) == []


def test_bootstrap_is_reproducible_and_brackets_the_mean():
    values = [0.0, -1.0, 0.5, 0.0, -0.25]
    assert bootstrap_interval(values) == bootstrap_interval(values)
    lo, hi = bootstrap_interval(values)
    assert -1.0 <= lo < sum(values) / 5 < hi <= 0.5
    assert bootstrap_interval([0.25] * 4) == (0.25, 0.25)
    assert bootstrap_interval([]) == (0.0, 0.0)
