"""Is a change in pass rate between two runs real? Exact tests on the counts.

Trials are few (k = 1..5 per task), so normal approximations are wrong where it
matters; Fisher's exact test conditions on the margins and needs no large
sample. Probabilities are computed from exact integer binomials, so no
floating-point sum of tiny terms drifts. Two-sided p-values sum every table at
most as likely as the observed one (the "minimum likelihood" rule R and SciPy
use), with a relative tolerance so ties that differ only by rounding count.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from fractions import Fraction

from scoring.metrics import wilson_interval

# Tables whose probability is within this relative distance of the observed one are ties.
_TIE = Fraction(1, 10**7)


def _hypergeom_weights(row1: int, row2: int, col1: int) -> tuple[int, dict[int, int]]:
    """Unnormalised P(a) = C(row1, a) * C(row2, col1 - a) for every feasible ``a``."""
    lo, hi = max(0, col1 - row2), min(row1, col1)
    return math.comb(row1 + row2, col1), {
        a: math.comb(row1, a) * math.comb(row2, col1 - a) for a in range(lo, hi + 1)
    }


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table [[a, b], [c, d]].

    For clawrig: row 1 is the old run (a passes, b fails), row 2 the new one.
    """
    if min(a, b, c, d) < 0:
        raise ValueError(f"counts must be >= 0, got {(a, b, c, d)}")
    total, weights = _hypergeom_weights(a + b, c + d, a + c)
    if total == 0 or len(weights) <= 1:
        return 1.0
    observed = weights[a]
    limit = observed + observed * _TIE
    tail = sum(w for w in weights.values() if w <= limit)
    return min(1.0, float(Fraction(tail, total)))


def stratified_exact(tables: Sequence[tuple[int, int, int, int]]) -> tuple[float, float]:
    """Exact test of "no change in any task" across many 2x2 tables: ``(p, expected)``.

    Each task is a stratum ``(a, b, c, d)`` (old passes, old fails, new passes, new
    fails). Given every task's margins, the old run's total passes ``S = sum(a)`` has the
    distribution of a sum of independent hypergeometrics; its exact law is their
    convolution (the exact conditional form of the Mantel-Haenszel test). Unlike one
    Fisher test on pooled counts, easy and hard tasks are not mixed, so the test is not
    diluted by how much tasks differ from each other. Two-sided by the same
    minimum-likelihood rule; ``expected`` is E[S], so ``S > expected`` means the old
    run passed more than chance would give.
    """
    dist: dict[int, int] = {0: 1}
    total = 1
    observed = 0
    expected = Fraction(0)
    for a, b, c, d in tables:
        if min(a, b, c, d) < 0:
            raise ValueError(f"counts must be >= 0, got {(a, b, c, d)}")
        norm, weights = _hypergeom_weights(a + b, c + d, a + c)
        observed += a
        if len(weights) <= 1:  # margins leave no freedom: a constant
            dist = {s + a: w for s, w in dist.items()}
            expected += a
            continue
        total *= norm
        expected += Fraction(sum(x * w for x, w in weights.items()), norm)
        nxt: dict[int, int] = {}
        for s, ws in dist.items():
            for x, wx in weights.items():
                nxt[s + x] = nxt.get(s + x, 0) + ws * wx
        dist = nxt
    if len(dist) <= 1:
        return 1.0, float(expected)
    limit = dist[observed] + dist[observed] * _TIE
    tail = sum(w for w in dist.values() if w <= limit)
    return min(1.0, float(Fraction(tail, total))), float(expected)


def fisher_one_sided(a: int, b: int, c: int, d: int) -> float:
    """P(row 1 holds at least ``a`` successes | margins): small when row 1 did better."""
    total, weights = _hypergeom_weights(a + b, c + d, a + c)
    if total == 0:
        return 1.0
    return float(Fraction(sum(w for x, w in weights.items() if x >= a), total))


def newcombe_interval(
    s1: int, n1: int, s2: int, n2: int, z: float = 1.959964
) -> tuple[float, float]:
    """95% interval for p2 - p1 (Newcombe's hybrid score method, from two Wilson
    intervals): sound at the small counts and the 0%/100% rates suites produce."""
    p1 = s1 / n1 if n1 else 0.0
    p2 = s2 / n2 if n2 else 0.0
    l1, u1 = wilson_interval(s1, n1, z)
    l2, u2 = wilson_interval(s2, n2, z)
    diff = p2 - p1
    lower = diff - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = diff + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return (max(-1.0, lower), min(1.0, upper))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given): with 200 tasks, some
    raw p < 0.05 appear by chance; the adjusted ones keep the family-wise error at alpha."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def bootstrap_interval(
    values: Sequence[float], rounds: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile 95% interval of the mean of ``values`` over resamples with replacement.

    Used for the change in mean pass^k: each value is one task's change, tasks are the
    unit that varies, and pass^k is not a proportion of pooled trials. The fixed seed
    keeps a report reproducible.
    """
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(rounds))
    return (means[int(0.025 * rounds)], means[min(rounds - 1, int(0.975 * rounds))])
