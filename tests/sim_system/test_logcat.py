"""The virtual phone's system log: app starts, activity changes, provider writes, crashes."""

from __future__ import annotations

import re

import pytest

from emulator.sim.contracts import PhoneContext
from emulator.sim.logbuf import LogBuffer
from tests.sim_system.conftest import Run

SETTINGS = "com.android.settings"
MESSAGES = "com.google.android.apps.messaging"
THREADTIME = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ [VDIWEF] [^:]+: ", re.M)


@pytest.fixture
def logged(ui_ctx: PhoneContext) -> Run:
    ui_ctx.log = LogBuffer(ui_ctx.clock)
    ui_ctx.providers.log = ui_ctx.log
    return Run(ui_ctx)


def test_app_start_and_activity_change_are_logged(logged: Run) -> None:
    logged.out(f"am start -n {SETTINGS}/.Settings")
    out = logged.out("logcat -d")
    assert f"I ActivityTaskManager: START u0 {{cmp={SETTINGS}/" in out
    assert f"I ActivityTaskManager: Displayed {SETTINGS}/" in out
    assert all(THREADTIME.match(line) for line in out.splitlines()), out
    logged.out("input keyevent KEYCODE_HOME")
    assert "Displayed com.google.android.apps.nexuslauncher/" in logged.out("logcat -d -t 1")


def test_provider_writes_are_logged_without_their_values(logged: Run) -> None:
    secret = "hunter2-$(rm)-💥"
    logged.out(
        f"content insert --uri content://sms/inbox --bind address:s:555 --bind body:s:'{secret}'"
    )
    out = logged.out("logcat -d")
    assert re.search(r"D ContentProvider: insert content://sms/\S*\d+ rows=1 by=app", out), out
    assert secret not in out and "hunter2" not in out


def test_crash_is_logged_with_its_exception(logged: Run, monkeypatch) -> None:
    logged.out(f"am start -n {SETTINGS}/.Settings")
    app = logged.ctx.ui.apps[SETTINGS]

    def broken(entry):  # an app whose screen fails to draw: the phone's crash path
        raise RuntimeError("draw failed on purpose")

    monkeypatch.setattr(app, "build", broken)
    logged.out("uiautomator dump /sdcard/w.xml")
    out = logged.out("logcat -d *:E")
    assert "E AndroidRuntime: FATAL EXCEPTION: main" in out
    assert f"E AndroidRuntime: Process: {SETTINGS}" in out
    assert "RuntimeError: draw failed on purpose" in out
    assert "I ActivityTaskManager" not in out  # the *:E filter keeps errors only


def test_clear_and_tail(logged: Run) -> None:
    logged.out(f"am start -n {SETTINGS}/.Settings")
    logged.out("logcat -c")
    assert logged.out("logcat -d") == ""
    logged.out(f"am start -n {MESSAGES}/.ui.ConversationListActivity")
    assert len(logged.out("logcat -d -t 1").splitlines()) == 1
    status, _out, err = logged("logcat -t many")
    assert status == 1 and "not a count" in err


def test_log_is_bounded() -> None:
    buf = LogBuffer(size=3)
    for i in range(10):
        buf.i("T", f"m{i}")
    assert [e.message for e in buf.entries()] == ["m7", "m8", "m9"]
    with pytest.raises(ValueError):
        buf.write("X", "T", "bad level")


def test_filterspecs_select_tags_as_logcat_does(logged: Run) -> None:
    logged.ctx.log.write("I", "AlarmClock", "ring 07:00")
    logged.ctx.log.write("D", "AlarmClock", "scheduled")
    logged.ctx.log.write("E", "Other", "boom")
    only = logged.out("logcat -d -s AlarmClock")
    assert "ring 07:00" in only and "scheduled" in only and "boom" not in only
    assert "boom" not in logged.out("logcat -d AlarmClock:I *:S")
    info = logged.out("logcat -d -s AlarmClock:I")
    assert "ring 07:00" in info and "scheduled" not in info
    both = logged.out("logcat -d AlarmClock:S *:E")
    assert "boom" in both and "AlarmClock" not in both
    status, _out, err = logged("logcat -d Tag:Q")
    assert status == 1 and "invalid filter" in err
