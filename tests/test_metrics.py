"""Metrics against worked examples computed by hand."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.metrics import Trial, pass_at_k, pass_hat_k, summarize, wilson_interval


def test_pass_at_k_worked_examples():
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 0, 3) == 0.0
    # n-c < k: some pass is guaranteed
    assert pass_at_k(4, 3, 2) == 1.0


def test_pass_hat_k_worked_examples():
    # C(3,2)/C(5,2) = 3/10
    assert pass_hat_k(5, 3, 2) == pytest.approx(0.3)
    assert pass_hat_k(5, 5, 5) == 1.0
    assert pass_hat_k(5, 4, 5) == 0.0


def test_invalid_counts_are_rejected():
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="k <= n"):
        pass_hat_k(3, 1, 4)


def test_wilson_known_value():
    # 8/10 at 95%: (0.4902, 0.9433), a textbook example
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_pass_at_k_monotone_and_bounded(args):
    n, c, k = args
    at, hat = pass_at_k(n, c, k), pass_hat_k(n, c, k)
    eps = 1e-9
    assert 0.0 <= hat <= c / n + eps
    assert c / n <= at + eps
    assert at <= 1.0 + eps
    if k == 1:
        assert math.isclose(at, c / n) and math.isclose(hat, c / n)


def test_summary_excludes_infra_errors_and_breaks_down():
    trials = [
        Trial("a", True, 1.0, mode="reactive", surfaces=("gui",)),
        Trial("a", False, 0.5, mode="reactive", surfaces=("gui",)),
        Trial("a", True, 1.0, infra_error="adb offline", mode="reactive", surfaces=("gui",)),
        Trial("b", False, 0.0, mode="proactive", surfaces=("cli", "cross-device")),
        Trial("b", False, 0.0, mode="proactive", surfaces=("cli", "cross-device")),
        Trial("c", True, 1.0, infra_error="vm hung", mode="proactive", surfaces=("cli",)),
    ]
    s = summarize(trials, ks=(1, 2))
    assert s.tasks == 3
    assert s.trials == 4
    assert s.infra_errors == 2
    assert s.passed == 1
    assert s.pass_rate == pytest.approx(0.25)
    # per task pass@1: a=1/2, b=0 -> mean 0.25; pass@2: a=1, b=0 -> 0.5; pass^2: 0
    assert s.pass_at[1] == pytest.approx(0.25)
    assert s.pass_at[2] == pytest.approx(0.5)
    assert s.pass_hat[2] == 0.0
    assert s.per_task["c"]["trials"] == 0
    assert s.by["mode"]["reactive"]["pass_rate"] == pytest.approx(0.5)
    assert s.by["mode"]["proactive"]["infra_errors"] == 1
    assert s.by["surface"]["cross-device"]["trials"] == 2
    assert s.to_dict()["wilson_95"][0] < 0.25 < s.to_dict()["wilson_95"][1]
