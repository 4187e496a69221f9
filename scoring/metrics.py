"""Suite metrics: unbiased pass@k, pass^k, Wilson intervals, breakdowns.

pass@k is the chance that at least one of k trials drawn without replacement
from the n recorded trials passes; pass^k (Sierra's tau-bench) that all k do.
Both are computed per task from (n, c) and averaged over tasks, so tasks with
more trials do not weigh more. Trials that ended in an infrastructure error
are not trials of the agent: they leave the denominator and are counted apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k): at least one of k sampled trials passes."""
    _check(n, c, k)
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """C(c, k) / C(n, k): all of k sampled trials pass (consistency)."""
    _check(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default); (0, 1) with no data."""
    if total == 0:
        return (0.0, 1.0)
    if not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total, got {successes}/{total}")
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Trial:
    """One recorded attempt. ``passed`` is ignored when ``infra_error`` is set."""

    task_id: str
    passed: bool
    score: float = 0.0
    infra_error: str | None = None
    mode: str = "reactive"
    surfaces: tuple[str, ...] = ()


@dataclass
class Summary:
    tasks: int
    trials: int
    infra_errors: int
    passed: int
    pass_rate: float
    interval: tuple[float, float]
    pass_at: dict[int, float]
    pass_hat: dict[int, float]
    mean_score: float
    per_task: dict[str, dict[str, Any]] = field(default_factory=dict)
    by: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "trials": self.trials,
            "infra_errors": self.infra_errors,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "wilson_95": list(self.interval),
            "pass_at_k": {str(k): v for k, v in self.pass_at.items()},
            "pass_hat_k": {str(k): v for k, v in self.pass_hat.items()},
            "mean_score": self.mean_score,
            "per_task": self.per_task,
            "by": self.by,
        }


def summarize(trials: Iterable[Trial], ks: Sequence[int] = (1,), breakdown: bool = True) -> Summary:
    """Aggregate trials; pass@k and pass^k average over tasks that have at least k valid trials."""
    all_trials = list(trials)
    valid = [t for t in all_trials if t.infra_error is None]
    infra = len(all_trials) - len(valid)
    per_task: dict[str, list[Trial]] = defaultdict(list)
    for t in valid:
        per_task[t.task_id].append(t)
    tasks_seen = {t.task_id for t in all_trials}

    passed = sum(t.passed for t in valid)
    pass_at: dict[int, float] = {}
    pass_hat: dict[int, float] = {}
    for k in ks:
        eligible = [ts for ts in per_task.values() if len(ts) >= k]
        if eligible:
            counts = [(len(ts), sum(t.passed for t in ts)) for ts in eligible]
            pass_at[k] = sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
            pass_hat[k] = sum(pass_hat_k(n, c, k) for n, c in counts) / len(counts)

    table = {
        task_id: {
            "trials": len(ts),
            "passed": sum(t.passed for t in ts),
            "mean_score": sum(t.score for t in ts) / len(ts),
        }
        for task_id, ts in sorted(per_task.items())
    }
    for task_id in sorted(tasks_seen - set(per_task)):
        table[task_id] = {"trials": 0, "passed": 0, "mean_score": None}
    summary = Summary(
        tasks=len(tasks_seen),
        trials=len(valid),
        infra_errors=infra,
        passed=passed,
        pass_rate=passed / len(valid) if valid else 0.0,
        interval=wilson_interval(passed, len(valid)),
        pass_at=pass_at,
        pass_hat=pass_hat,
        mean_score=sum(t.score for t in valid) / len(valid) if valid else 0.0,
        per_task=table,
    )
    if breakdown:
        summary.by = {
            "mode": _group(all_trials, lambda t: [t.mode], ks),
            "surface": _group(all_trials, lambda t: list(t.surfaces) or ["unspecified"], ks),
        }
    return summary


def _group(trials: list[Trial], keys, ks: Sequence[int]) -> dict[str, Any]:
    groups: Mapping[str, list[Trial]] = defaultdict(list)
    for t in trials:
        for key in keys(t):
            groups[key].append(t)
    return {
        key: summarize(ts, ks, breakdown=False).to_dict() | {"per_task": None}
        for key, ts in sorted(groups.items())
    }
