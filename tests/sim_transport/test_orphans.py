"""A phone spawned by a process that dies does not outlive it, whichever thread spawned it
(from the main thread PR_SET_PDEATHSIG stops it; from a worker thread, where that cannot
hold, the phone's own watch of its parent does)."""

import os
import signal
import subprocess
import sys
import time

import pytest

PARENT = """
import sys, threading, time
from emulator.sim.phone import spawn_phone
def start():
    phone = spawn_phone(sys.argv[1])
    print(phone.process.pid, flush=True)
if sys.argv[2] == "thread":
    t = threading.Thread(target=start); t.start(); t.join()
else:
    start()
time.sleep(600)
"""


@pytest.mark.integration
@pytest.mark.parametrize("where", ["main", "thread"])
def test_phone_dies_with_its_parent(tmp_path, where):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "state"), where],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # the phone is up
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the phone outlived the process that spawned it")
        log = (tmp_path / "state" / "phone.log").read_text(errors="replace")
        if where == "thread":  # stopped by its own watch, the way a SIGTERM stops it
            assert "is gone: stopping" in log, log[-2000:]
    finally:
        if parent.poll() is None:
            parent.kill()
