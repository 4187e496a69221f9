"""The example task's whole 92-day stream: compiled, clocks frozen, seeded into phone and laptop.

Seeding verifies every record by reading it back (a miss raises SeedMismatch naming
the record); this test then checks the plot landed where the task needs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.readers import ProviderQuery
from linux_vm.readers import maildir_messages
from tasks import compile_linux as L
from tasks.compile import compile_plans, plan_fingerprint
from tasks.folder import load_task

# The first test on the VM pays for its restore (a cold boot when the machine is loaded).
pytestmark = [pytest.mark.integration, pytest.mark.vm, pytest.mark.slow, pytest.mark.timeout(600)]
TASK = Path(__file__).parents[1] / "tasks" / "fixtures" / "mail-to-calendar"


def test_example_task_seeds_and_verifies(phone, laptop) -> None:
    loaded = load_task(TASK)
    stream = loaded.stream()
    assert len(stream) > 5000
    plans = compile_plans(loaded, stream)
    again = compile_plans(loaded, loaded.stream())
    assert {r: plan_fingerprint(p) for r, p in plans.items()} == {
        r: plan_fingerprint(p) for r, p in again.items()
    }
    assert plans.skipped == []

    task = loaded.task
    phone.set_clock(task.now, task.timezone)
    laptop.set_clock(task.now, task.timezone)
    digests = {"phone": phone.seed(plans["phone"]), "laptop": laptop.seed(plans["laptop"])}

    assert digests["phone"]["digest"] == plan_fingerprint(plans["phone"])
    assert digests["phone"]["sms"] == len(plans["phone"].sms) > 1000
    assert digests["laptop"]["records"] == len(plans["laptop"].records) > 900
    assert len(digests["laptop"]["sha256"]) == 64

    plot_mail = "<appt-4471@praxis-baumann.example>"
    inbox = maildir_messages(laptop, L.MAIL_INBOX)
    (mail,) = [m for m in inbox if m["message_id"] == plot_mail]
    assert "Boxhagener Str. 12" in mail["body"] and "🦷" in mail["body"]
    titles = phone.read_state(
        ProviderQuery(uri="content://com.android.calendar/events", projection=["title"])
    )
    assert {"title": "Team standup"} in titles
