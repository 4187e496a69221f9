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


def simulate(tasks: list[str], trials: int, workers: int, finish: list[int]) -> list[list]:
    """Which trials each worker runs, when the workers finish in the order ``finish`` says
    (a worker index per finished trial), the way the suite's loop picks them."""
    from rig.suite import pick_trial

    queue = run_order(specs(tasks, trials), checkpoint=True)
    ran: list[list] = [[] for _ in range(workers)]
    last: dict[int, str] = {}
    started: set[str] = set()

    def give(slot: int) -> None:
        if not queue:
            return
        others = {t for i, t in last.items() if i != slot}
        spec = queue.pop(pick_trial(queue, last.get(slot), started, others))
        last[slot] = spec.task_id
        started.add(spec.task_id)
        ran[slot].append(spec.key)

    for slot in range(workers):
        give(slot)
    for slot in finish:
        give(slot)
    return ran


def test_a_worker_runs_the_later_trials_of_the_task_it_kept_warm_back_to_back():
    # Two workers, three tasks: each first trial starts before another task's later
    # trial needs it, and each worker then runs its task's trials one after the other.
    ran = simulate(["a", "b", "c"], 3, 2, finish=[0, 0, 1, 1, 0, 0, 1])
    assert ran[0] == [("a", 0), ("a", 1), ("a", 2), ("c", 0), ("c", 1)]
    assert ran[1] == [("b", 0), ("b", 1), ("b", 2), ("c", 2)]
    # A worker whose task has no trials left builds the next task's checkpoint first.
    ran = simulate(["a", "b", "c"], 2, 2, finish=[0, 0, 1, 0])
    assert ran[0] == [("a", 0), ("a", 1), ("c", 0), ("c", 1)]
    assert ran[1] == [("b", 0), ("b", 1)]


def test_a_worker_with_nothing_of_its_own_helps_rather_than_idles():
    ran = simulate(["a", "b"], 3, 3, finish=[0, 1, 2, 0])
    # The third worker has no task: it takes a later trial (a restore) beside the others,
    # and then keeps to that task; the first two keep to theirs.
    assert ran[2][0] == ("a", 1)
    assert ran[0] == [("a", 0), ("a", 2)]
    assert ran[1] == [("b", 0), ("b", 1)]
    assert ran[2] == [("a", 1), ("b", 2)]
