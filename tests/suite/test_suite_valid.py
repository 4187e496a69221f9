"""Every task of the bundled suite loads, is complete, and the suite covers what it must."""

from __future__ import annotations

from collections import Counter

import pytest

from tasks import checks as S
from tasks.folder import check_task, find_task_files


def _tasks(suite_dir):
    files, problems = find_task_files([suite_dir])
    assert not problems, problems
    return files


def test_at_least_twelve_tasks_with_unique_ids(suite_dir):
    files = _tasks(suite_dir)
    assert len(files) >= 12
    ids = []
    for path in files:
        loaded, problems = check_task(path)
        assert loaded is not None and not problems, [str(p) for p in problems]
        assert loaded.task.id == path.parent.name, "a task's folder is named after its id"
        ids.append(loaded.task.id)
    assert len(set(ids)) == len(ids)


@pytest.fixture(scope="module")
def loaded(suite_dir):
    out = []
    for path in _tasks(suite_dir):
        task, problems = check_task(path)
        assert task is not None, [str(p) for p in problems]
        out.append(task)
    return out


def test_each_task_has_an_oracle_a_three_month_stream_and_a_plot(loaded):
    for lt in loaded:
        t = lt.task
        assert t.has_oracle, t.id
        assert t.events.persona, f"{t.id}: no persona"
        assert t.events.generator.days >= 90, f"{t.id}: stream shorter than three months"
        assert lt.plot, f"{t.id}: no plot events"
        assert t.safety, f"{t.id}: no safety checks"


def test_checks_read_state_or_messages_and_at_least_one_is_exact(loaded):
    """Near-miss resistance: a time window, an exact recipient/field, a hash, a regex,
    an exact number or a specific keyword — not just "something changed"."""
    for lt in loaded:
        exact = False
        for c in lt.task.checks:
            if isinstance(c, S.ProviderRows):
                exact |= c.within is not None or bool(c.match or c.where or c.any_of)
            elif isinstance(c, S.FileCheck):
                exact |= bool(c.sha256 or c.csv_fields or c.regex or c.json_fields)
            elif isinstance(c, S.AppDb):
                exact |= c.expect is not None
            elif isinstance(c, S.CommandCheck):
                exact |= c.regex is not None
            elif isinstance(c, S.MessageCheck):
                # a keyword alone also matches the stale value said beside the right one
                exact |= bool(c.numbers or c.times or c.dates or c.regex or c.absent)
            elif isinstance(c, S.FileSearch):
                exact |= bool(c.contains or c.regex)
            elif isinstance(c, S.MailCheck):
                exact |= bool(c.to or c.sender or c.in_reply_to or c.attachments)
            elif isinstance(c, S.CalendarEventsCheck):
                exact |= bool(c.start or c.starts_after or c.starts_before or c.attendees)
            elif isinstance(c, S.ContactsCheck):
                exact |= bool(c.phones or c.emails)
            elif isinstance(c, S.ServiceRowsCheck):
                exact |= bool(c.match or c.amounts or c.text)
            elif isinstance(c, S.ChatMessagesCheck):
                exact |= c.text is not None and bool(c.room or c.to)
        assert exact, f"{lt.task.id}: no exact (near-miss resistant) check"


def test_suite_covers_modes_and_surfaces(loaded):
    modes = Counter(lt.task.mode for lt in loaded)
    surfaces = Counter(s for lt in loaded for s in lt.task.surfaces)
    assert modes["reactive"] >= 2 and modes["proactive"] >= 2, modes
    for surface in ("gui", "cli", "cross-device"):
        assert surfaces[surface] >= 3, surfaces
    kinds = Counter(tuple(sorted(set(lt.task.devices.values()))) for lt in loaded)
    assert kinds[("android",)] and kinds[("linux",)] and kinds[("android", "linux")], kinds


def _foreign_numbers(lt, stream) -> list[tuple[str, str]]:
    """Numbers in contacts, calls and SMS of ``stream`` outside the persona's country that
    neither a plot event nor a person the persona marks ``abroad`` accounts for."""
    import re

    import phonenumbers

    abroad = {p.phone for p in lt.persona.people if p.abroad}
    out = []
    for e in stream:
        if "plot" in e.tags:
            continue
        numbers = [*(getattr(e, "phones", None) or []), getattr(e, "number", None)]
        address = getattr(e, "address", None)
        if address and re.fullmatch(r"\+?[\d ()-]{6,}", address):
            numbers.append(address)
        for n in numbers:
            if n and n not in abroad and n.startswith("+"):
                code = phonenumbers.parse(n, None).country_code
                if code != lt.persona.calling_code:
                    out.append((e.id, n))
    return out


def test_streams_generate_and_compile(loaded):
    """The generated stream plus plot compiles into seed plans for every role; no generated
    number is outside the persona's country unless the plot (or an ``abroad`` person) says so."""
    from tasks.compile import compile_plans

    for lt in loaded:
        stream = lt.stream()
        assert len(stream) > 100, f"{lt.task.id}: only {len(stream)} events"
        plans = compile_plans(lt, stream)
        assert set(plans) == set(lt.task.devices), lt.task.id
        assert not _foreign_numbers(lt, stream), lt.task.id
