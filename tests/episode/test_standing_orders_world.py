"""A seeded standing order books when the world's stepped clock reaches its day, end to end.

Real parts: the task compiled and seeded through the rig (the plot's ``bank.standing_order``),
the virtual phone behind the real adb server, the world's service host with the bank under
uvicorn; the clock moved by the agent's ``wait``; the booking read through the rig's state
reader and scored by the task's own ``service_rows`` check.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from rig.api import TaskEnv
from tasks.folder import load_task
from tasks.loader import ProblemsFound

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TASK = """\
id: standing-order-books
title: The rent's standing order books on its day
mode: proactive
surfaces: [gui]
instruction: Watch my account.
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {phone: android}
services: [bank]
events:
  persona: maya
  plot:
    - {t: -15d 08:00, kind: bank.transaction, target: service:bank, account: Girokonto,
       amount: -850.00, currency: EUR, counterparty: Hausverwaltung Berger,
       reference: "Miete 03/2026 – Whg. 3 \\"Süd\\" 🏠", balance: 2150.00}
    - {t: -60d 10:00, kind: bank.standing_order, target: service:bank, account: Girokonto,
       payee: Hausverwaltung Berger, iban: DE89370400440532013000, amount: 850.00,
       currency: EUR, reference: "Miete – Whg. 3 \\"Süd\\" 🏠", next_date: NEXT}
clock: {mode: stepped}
checks:
  - {kind: service_rows, service: bank, table: transactions, new: true, count: 1,
     match: {origin: standing_order, counterparty: Hausverwaltung Berger},
     amounts: {amount: {value: -850.00}}}
"""


def _task(tmp_path: Path, next_date: str) -> Path:
    folder = tmp_path / "standing-order-books"
    folder.mkdir()
    text = TASK.replace("NEXT", next_date)
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return folder


def test_wait_past_the_date_books_once_and_the_check_reads_it(tmp_path):
    with TaskEnv(_task(tmp_path, "2026-03-17"), out=tmp_path / "run") as env:
        env.reset()
        bank = env.episode.world.services["bank"]

        def rows(table: str) -> list[dict]:
            return bank.read_state({"kind": "rows", "table": table})

        (order,) = rows("standing_orders")
        assert order["next_date"] == "2026-03-17" and order["first_date"] == "2026-03-17"
        assert [t for t in rows("transactions") if t["origin"] == "standing_order"] == []

        obs, _, _ = env.step({"action": "wait", "seconds": 23 * 3600})  # 08:00 the next day
        assert obs.ok, obs.error
        (txn,) = [t for t in rows("transactions") if t["origin"] == "standing_order"]
        assert txn["amount_cents"] == -85000 and txn["balance_cents"] == 130000
        assert txn["counterparty_iban"] == "DE89370400440532013000"
        assert txn["reference"] == 'Miete – Whg. 3 "Süd" 🏠'
        assert datetime.fromisoformat(txn["booked_at"]) == datetime.fromisoformat(
            "2026-03-17T00:00:00+01:00"
        )
        assert rows("standing_orders")[0]["next_date"] == "2026-04-17"
        (acc,) = rows("accounts")
        assert acc["balance_cents"] == 130000

        env.step({"action": "wait", "seconds": 3600})  # nothing more falls due
        assert len([t for t in rows("transactions") if t["origin"] == "standing_order"]) == 1
        env.step({"action": "answer", "text": "The rent was paid."})
        result = env.close()
    assert result is not None and result.infra_error is None, result
    assert result.passed, result.checks


def test_a_seeded_order_already_due_is_a_task_error_naming_the_line(tmp_path):
    with pytest.raises(ProblemsFound) as err:
        load_task(_task(tmp_path, "2026-03-16"))  # due today: it would have run at 00:00
    text = str(err.value)
    assert "task.yaml:16: events.plot[1]: next_date 2026-03-16 must lie after now" in text, text
