"""Threads that reach one VM at once, through the real objects they share.

With a running clock, live events are delivered by a thread of their own while the agent
acts (rig/live_events.py), so each path must be safe beside the agent's.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from rig.live_events import LiveEvents
from rig.world import World
from rig.world_clock import WorldTime
from tasks.folder import check_task

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]

TZ = "Europe/Berlin"
TASK = """\
id: live-file
title: A file lands on the laptop
mode: proactive
surfaces: [cli]
instruction: Watch.
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {laptop: linux}
clock: {mode: running}
live:
  - {t: +1m, kind: file.placed, target: laptop, path: ~/Downloads/live-threads/ticket.txt,
     text: "Ticket 4711 — Gleis 3"}
checks:
  - {kind: message, keywords: [ticket]}
"""


def test_a_live_file_lands_while_the_agents_shell_command_runs(laptop, tmp_path):
    """The delivery thread must not use the agent's shell, one request/response channel:
    there the two threads took each other's output, the file waited for the agent's
    command to end, and the agent's ``$?`` changed under it."""
    (tmp_path / "task.yaml").write_text(TASK, encoding="utf-8")
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert problems == []
    (event,) = loaded.live
    world = World(now=datetime.fromisoformat("2026-03-16T09:00:00+01:00"), timezone=TZ)
    world.add(laptop)
    live = LiveEvents(world, loaded.live, WorldTime(world), TZ)
    laptop.exec("rm -rf ~/Downloads/live-threads")
    laptop.shell("true")  # the agent's shell is up

    with ThreadPoolExecutor(max_workers=1) as pool:
        agent = pool.submit(laptop.shell, "sleep 4; echo agent; false", 30)
        time.sleep(0.5)  # the agent's command is running
        started = time.monotonic()
        (entry,) = live.fire_due(event.t)
        took = time.monotonic() - started
        result = agent.result(timeout=60)
    assert entry["ok"], entry
    assert took < 3, f"the delivery waited {took:.1f} s for the agent's command"
    assert result.exit_code == 1 and result.stdout == "agent\n", result
    assert laptop.shell("echo $?").stdout == "1\n"  # the agent's last status, as it left it
    home = laptop.exec('printf %s "$HOME"').stdout
    got = laptop.read_file(f"{home}/Downloads/live-threads/ticket.txt")
    assert got.decode() == "Ticket 4711 — Gleis 3"


def test_threads_that_find_the_connection_dropped_share_one_new_one(fresh_vm):
    """After the agent ended the SSH connection (``kill -9 -1`` kills the user's sshd),
    the next operations of several threads each find it down: one connects again and the
    others use that connection (each made its own, the extras left open)."""
    from linux_vm.errors import DeviceLost

    session = fresh_vm.session
    with pytest.raises(DeviceLost):
        session.exec("kill -9 -1", timeout=10)
    deadline = time.monotonic() + 10
    while session.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not session.alive()
    with ThreadPoolExecutor(max_workers=6) as pool:
        said = list(pool.map(lambda i: session.exec(f"echo {i}", timeout=30).stdout, range(6)))
    assert said == [f"{i}\n" for i in range(6)]
    assert session.reconnects == 1
    # One connection open to the guest: each user sshd process there is one.
    assert session.exec('pgrep -c -x -u "$(id -un)" sshd').stdout == "1\n"


def test_qmp_commands_from_several_threads_each_get_their_own_reply(laptop):
    """A teardown's ``quit`` can meet a late delivery's ``query-status`` on one QMP socket:
    each command must read its own reply, never another thread's."""
    qmp = laptop.vm.qmp
    asks = {"query-status": "status", "query-version": "qemu", "query-name": None}

    def ask(i: int) -> None:
        command = list(asks)[i % len(asks)]
        for _ in range(40):
            reply = qmp.execute(command)
            key = asks[command]
            assert isinstance(reply, dict) and (key is None or key in reply), (command, reply)
            if key is None:  # query-name: the VM's name, or nothing when unnamed
                assert not {"status", "qemu"} & set(reply), reply

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(ask, range(6)))
    assert qmp.execute("query-status")["status"] == "running"
