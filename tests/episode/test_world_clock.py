"""World clock modes on the virtual phone and the services together (task.yaml ``clock:``).

Real parts: the virtual phone behind the real adb server, the world's service host
(the bank under uvicorn) in its own process; time is read on the phone with ``date``
and on the bank from its own audit log (what the host's clock said for a request).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from rig.api import TaskEnv
from rig.clock_agreement import device_offset, kept_offset, read_clocks, spread
from rig.services.audit import read_audit

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TASK = """\
id: clock-{mode}
title: Clock mode {mode}
mode: reactive
surfaces: [gui]
instruction: Look at the phone.
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {{phone: android}}
services: [bank]
events:
  persona: maya
  generator: {{days: 2, seed: 5}}
clock: {{mode: {mode}}}
checks:
  - {{kind: message, keywords: [phone]}}
"""
NOW = datetime.fromisoformat("2026-03-16T09:00:00+01:00").timestamp()


def _task(tmp_path: Path, mode: str) -> Path:
    folder = tmp_path / f"clock-{mode}"
    folder.mkdir()
    (folder / "task.yaml").write_text(TASK.format(mode=mode), encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return folder


def _phone_s(env: TaskEnv) -> float:
    out = env.episode.world["phone"].shell("date +%s.%N", timeout=10).stdout.strip()
    return float(out)


def _bank_s(env: TaskEnv) -> float:
    """World time on the service host: its audit stamp for a request made now."""
    bank = env.episode.world.services["bank"]
    bank.request("GET", "/accounts")
    last = read_audit(bank.stack.audit_path("bank"))[-1]
    return datetime.fromisoformat(last["t"]).timestamp()


def test_running_clock_phone_and_services_agree_and_advance(tmp_path):
    with TaskEnv(_task(tmp_path, "running"), out=tmp_path / "run") as env:
        env.reset()
        phone, bank = _phone_s(env), _bank_s(env)
        assert abs(phone - bank) < 1.0, (phone, bank)
        assert 0 <= phone - NOW < 30  # started at the task's now, not the host's date
        time.sleep(2.0)
        phone2, bank2 = _phone_s(env), _bank_s(env)
        assert abs(phone2 - bank2) < 1.0, (phone2, bank2)
        assert 1.5 < phone2 - phone < 4.0 and 1.5 < bank2 - bank < 4.0  # both run


def test_stepped_clock_stands_until_wait_advances_phone_and_services(tmp_path):
    with TaskEnv(_task(tmp_path, "stepped"), out=tmp_path / "run") as env:
        env.reset()
        phone, bank = _phone_s(env), _bank_s(env)
        assert phone == pytest.approx(NOW, abs=0.01) and bank == pytest.approx(NOW, abs=0.01)
        time.sleep(1.5)
        assert _phone_s(env) == pytest.approx(NOW, abs=0.01)  # stands
        assert _bank_s(env) == pytest.approx(NOW, abs=0.01)
        started = time.monotonic()
        obs, _, _ = env.step({"action": "wait", "device": "phone", "seconds": 30})
        assert obs.ok and "advanced 30" in obs.text
        assert time.monotonic() - started < 10  # no real 30 s wait
        assert _phone_s(env) == pytest.approx(NOW + 30, abs=0.01)
        assert _bank_s(env) == pytest.approx(NOW + 30, abs=0.01)
        env.step({"action": "ask_user", "question": "What time is it for you?"})
        (asked,) = env.episode.env.questions
        assert datetime.fromisoformat(asked.world_time).timestamp() == pytest.approx(NOW + 30)


@pytest.mark.vm
def test_frozen_clock_the_phone_stands_the_laptop_and_services_run_from_now(tmp_path):
    """Frozen, the default, is the behaviour from before the world clock: the virtual
    phone stands at the task's ``now``; the laptop was set to it before seeding and the
    service host started at it, and both tick on from there (docs/always-on.md#limits)."""
    folder = _task(tmp_path, "frozen")
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    text = text.replace("devices: {phone: android}", "devices: {laptop: linux, phone: android}")
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    started = time.time()
    with TaskEnv(folder, out=tmp_path / "run") as env:
        env.reset()
        assert env.episode.env.clock.now() is None  # no world clock moves it
        phone = _phone_s(env)
        time.sleep(1.5)
        assert phone == pytest.approx(NOW, abs=0.01) and _phone_s(env) == phone  # stands
        obs, _, _ = env.step({"action": "shell", "device": "laptop", "command": "date +%s.%N"})
        laptop, bank, ran = float(obs.stdout), _bank_s(env), time.time() - started
        for clock in (laptop, bank):  # from now, by at most the host time since the start
            assert NOW <= clock <= NOW + ran + 1, (clock - NOW, ran)
        assert laptop - NOW > 1.0  # the laptop ticks (set before seeding, 1.5 s slept since)


@pytest.mark.vm
def test_running_clock_vm_phone_and_services_agree(tmp_path):
    """Drift stays under 1 s: each clock against world time at the midpoint of its read."""
    folder = _task(tmp_path, "running")
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    # The laptop first: the phone is still set first (its `date @EPOCH` takes whole seconds).
    text = text.replace("devices: {phone: android}", "devices: {laptop: linux, phone: android}")
    text = text.replace("services: [bank]", "services: [bank, calendar]")
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    with TaskEnv(folder, out=tmp_path / "run") as env:
        env.reset()
        clock = env.episode.env.clock
        for _ in range(2):  # right after the start, and again after running a while
            readings = read_clocks(env.episode.world, clock)
            names = {r.clock for r in readings}
            assert names == {"phone", "laptop", "service:bank", "service:calendar"}, names
            for r in readings:  # each agrees with the controller's world time
                assert abs(r.offset_s) < 0.5 + r.error_s, readings
            assert spread(readings) < 1.0, readings
            time.sleep(5.0)
        assert env.episode.world["laptop"].shell("date +%Y-%m-%d").stdout.strip() == "2026-03-16"

        # The trim: a VM 3 s off is measured and stepped back in the guest.
        laptop = env.episode.world["laptop"]
        laptop.step_clock(3.0)
        off = device_offset("laptop", laptop, clock)
        assert abs(off.offset_s - 3.0) < 0.5 + off.error_s, off
        clock.trim()
        off = device_offset("laptop", laptop, clock)
        assert abs(off.offset_s) < 0.25 + off.error_s, off


# -- a running clock at a speed -----------------------------------------------------------

SPEED = 30
FAST_LIVE = """\
live:
  - {t: +1m, kind: sms.received, target: phone, address: "+49 170 1234567", body: fast-sms}
"""


def _fast_task(tmp_path: Path, devices: str, services: str) -> Path:
    folder = _task(tmp_path, "running")
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    text = text.replace("devices: {phone: android}", f"devices: {devices}")
    text = text.replace("services: [bank]", f"services: {services}")
    text = text.replace("clock: {mode: running}", f"clock: {{mode: running, speed: {SPEED}}}")
    (folder / "task.yaml").write_text(text + FAST_LIVE, encoding="utf-8")
    return folder


def _until_world(clock, seconds_after_now: float, bound_s: float = 30.0) -> None:
    """Wait (bounded, in host time) until the world clock passes ``now + seconds``."""
    deadline = time.monotonic() + bound_s
    while clock.now().timestamp() < NOW + seconds_after_now:
        assert time.monotonic() < deadline, "the world clock did not get there"
        time.sleep(0.05)


def _agree(readings, names: set[str]) -> None:
    assert {r.clock for r in readings} == names, readings
    for r in readings:  # each with world time at its read's midpoint (error bar x speed)
        assert abs(r.offset_s) < 0.5 + r.error_s, readings


def test_fast_running_clock_phone_and_services_run_at_its_speed_and_agree(tmp_path):
    """At x30 the phone runs by itself (``sim_clock_speed``), the bank by the anchor file;
    both agree with world time, minutes of it pass in seconds, a live SMS due at +1m comes
    on time by the phone's own clock."""
    folder = _fast_task(tmp_path, "{phone: android}", "[bank]")
    with TaskEnv(folder, out=tmp_path / "run") as env:
        env.reset()
        world, clock = env.episode.world, env.episode.env.clock
        assert clock.speed == SPEED
        assert world["phone"].shell("settings get global sim_clock_speed").stdout.strip() == "30.0"
        _agree(read_clocks(world, clock), {"phone", "service:bank"})
        _until_world(clock, 120)  # two minutes of world time: 4 s of host time at x30
        readings = read_clocks(world, clock)
        _agree(readings, {"phone", "service:bank"})
        assert min(r.said_s for r in readings) >= NOW + 120  # both went minutes ahead
        query = "content query --uri content://sms/inbox --projection body:date"
        rows = world["phone"].shell(query).stdout
        assert "body=fast-sms" in rows, rows
        sms_date = int(rows.split("date=")[1].split()[0].rstrip(",")) / 1000
        # Due 09:01:00; arrived by the phone's clock within a second of host time (x30).
        assert NOW + 60 <= sms_date < NOW + 60 + SPEED, sms_date
    (entry,) = [json.loads(x) for x in (tmp_path / "run" / "live.jsonl").read_text().splitlines()]
    assert entry["ok"] and entry["due"] <= entry["delivered"], entry


@pytest.mark.vm
def test_fast_running_clock_keeps_the_vm_on_world_time(tmp_path):
    """A VM's kernel clock runs at real time: at x30 its root helper sets it again every
    few ms by a reference the controller measures, so a read at any moment is within 1 s
    of world time; trimmed from the host instead, it agrees right at a trim. Once the
    keeping stops the laptop falls behind, yet an agent's command on it reads world time
    (the trim before each action)."""
    folder = _fast_task(tmp_path, "{laptop: linux, phone: android}", "[bank, calendar]")
    with TaskEnv(folder, out=tmp_path / "run") as env:
        env.reset()
        world, clock = env.episode.world, env.episode.env.clock
        laptop = world["laptop"]
        assert laptop.clock_kept  # its own helper keeps it
        names = {"phone", "laptop", "service:bank", "service:calendar"}
        _agree(read_clocks(world, clock), names)
        for _ in range(15):  # any moment: a single read, no trim before it
            r = device_offset("laptop", laptop, clock, samples=1)
            assert abs(r.offset_s) < 1.0 + r.error_s, r
            time.sleep(0.2)
        assert clock.keeps > 0  # the keeper has been at it on its own

        clock.keep_in_guest(False)  # trimmed from the host: right at a trim it agrees
        assert not laptop.clock_kept
        for _ in range(3):
            _agree([kept_offset("laptop", clock)], {"laptop"})
            time.sleep(0.5)
        clock.keep_in_guest(True)
        assert laptop.clock_kept

        # With the keeping stopped (the guest's too) the laptop falls behind (29 s per
        # second), yet what the agent's command reads is world time.
        clock.close()
        assert not laptop.clock_kept
        time.sleep(1.0)
        lag = device_offset("laptop", laptop, clock)
        assert lag.offset_s < -10, lag  # the kernel clock alone does not keep up
        before = time.time()
        obs, _, _ = env.step({"action": "shell", "device": "laptop", "command": "date +%s.%N"})
        after = time.time()
        seen = float(obs.stdout.strip())
        assert clock.at(before).timestamp() - 1 <= seen <= clock.at(after).timestamp() + 1, (
            seen,
            clock.at(before),
            clock.at(after),
        )
        assert not laptop.clock_kept  # the trim before the action left nothing keeping it
        names -= {"laptop"}
        _agree([r for r in read_clocks(world, clock) if r.clock in names], names)


LIVE_MAIL = """\
live:
  - {t: +10m, kind: mail.received, target: service:mail,
     message_id: "<moved-standup@example.org>", sender: "Lea <lea@example.org>",
     to: [maya.fischer@posteo.example], subject: Standup moved, body: "to 11:00"}
"""


def _shell_s(env: TaskEnv, role: str) -> float:
    """The device's clock read by an agent action (``date`` in its shell)."""
    obs, _, _ = env.step({"action": "shell", "device": role, "command": "date +%s.%N"})
    assert obs.ok and obs.exit_code == 0, obs
    return float(obs.stdout)


@pytest.mark.vm
def test_stepped_clock_pauses_the_vm_between_actions(tmp_path):
    """A stepped world stops the QEMU laptop between agent actions: its clock stands while
    the agent thinks (host seconds pass, its `date` does not), a `wait` moves the phone,
    the laptop and the services by exactly the wait, the shell and terminal live on, and
    an episode ending with the VM paused closes."""
    folder = _task(tmp_path, "stepped")
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    text = text.replace("devices: {phone: android}", "devices: {laptop: linux, phone: android}")
    text = text.replace("services: [bank]", "services: [bank, mail]") + LIVE_MAIL
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    with TaskEnv(folder, out=tmp_path / "run") as env:
        env.reset()
        clock, vm = env.episode.env.clock, env.episode.world["laptop"].vm
        assert clock.paused == ["laptop"] and vm.qmp.execute("query-status")["status"] == "paused"
        first = _shell_s(env, "laptop")
        assert abs(first - NOW) < 1.0, first - NOW  # set at the start, stood since
        time.sleep(4.0)  # the agent thinks
        second = _shell_s(env, "laptop")
        assert abs(second - NOW) < 1.0, second - NOW  # without the pause: 4 s and more ahead
        pauses = clock.pause_stats["pauses"]
        env.step({"action": "screenshot", "device": "phone"})  # the laptop is not woken for it
        env.step({"action": "notify", "text": "nothing new"})
        assert clock.pause_stats["pauses"] == pauses and clock.paused == ["laptop"]

        # The clock jumps to the live mail: the laptop's cron sync has fetched it (the VM
        # paused right after the step, its cron had no minute to run in).
        obs, _, _ = env.step({"action": "wait"})
        assert obs.ok and "advanced 10m" in obs.text
        find = "grep -rl moved-standup ~/Maildir; ls -l ~/Maildir/new"
        obs, _, _ = env.step({"action": "shell", "device": "laptop", "command": find})
        assert "/Maildir/" in obs.stdout, (obs.stdout, obs.stderr)
        assert clock.pause_stats.get("syncs") == 1

        obs, _, _ = env.step({"action": "wait", "seconds": 1800})
        assert obs.ok and "advanced 30m" in obs.text
        assert clock.pause_stats.get("syncs") == 1  # nothing new on the mail service
        assert clock.pause_stats.get("syncs_skipped") == 1
        time.sleep(2.0)
        later = NOW + 600 + 1800
        assert abs(_shell_s(env, "laptop") - later) < 1.0
        assert _phone_s(env) == pytest.approx(later, abs=0.01)
        assert _bank_s(env) == pytest.approx(later, abs=0.01)

        obs, _, _ = env.step({"action": "shell", "device": "laptop", "command": "cd /tmp; X=42"})
        time.sleep(1.0)
        obs, _, _ = env.step({"action": "shell", "device": "laptop", "command": "echo $X $PWD"})
        assert obs.stdout.strip() == "42 /tmp"  # the same shell across pauses
        line = ["echo ok-$((6*7))", "Enter"]
        keys = {"action": "terminal_keys", "device": "laptop", "keys": line}
        obs, _, _ = env.step({**keys, "until": "ok-42"})
        assert obs.ok and obs.settled, obs.text
        time.sleep(1.0)
        obs, _, _ = env.step({**keys, "until": "ok-42"})
        assert obs.ok and obs.settled, obs.text
        assert clock.paused == ["laptop"]

        # The control: released, the VM runs on between actions as before.
        clock.release()
        before = _shell_s(env, "laptop")
        time.sleep(3.0)
        assert _shell_s(env, "laptop") - before > 2.5
        assert vm.qmp.execute("query-status")["status"] == "running"
        vm.pause()  # paused again by hand: closing must resume and tear it down
        closing = time.monotonic()
    # Scoring reads the laptop: a guest left paused would hold it up to the helper's 120 s.
    assert time.monotonic() - closing < 60
    assert not vm.alive()
