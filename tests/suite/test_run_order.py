"""With checkpoints, a suite starts every task's first trial before any second one, so a
later trial restores a saved world instead of waiting beside the trial that builds it."""

from __future__ import annotations

from rig.suite import TrialSpec, run_order


def specs(tasks: list[str], trials: int) -> list[TrialSpec]:
    return [TrialSpec(t, f"{t}/task.yaml", k, "task", ()) for t in tasks for k in range(trials)]


def test_checkpointed_suites_start_every_first_trial_first():
    planned = specs(["a", "b", "c"], 3)
    order = [s.key for s in run_order(planned, checkpoint=True)]
    assert order == [(t, k) for k in range(3) for t in ("a", "b", "c")]


def test_fresh_suites_keep_the_planned_order():
    planned = specs(["a", "b"], 2)
    assert run_order(planned, checkpoint=False) == planned
