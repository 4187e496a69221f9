"""A phone spawned by a process that dies does not outlive it."""

import os
import signal
import subprocess
import sys
import time

import pytest

PARENT = """
import sys, time
from emulator.sim.phone import spawn_phone
phone = spawn_phone(sys.argv[1])
print(phone.process.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.integration
def test_phone_dies_with_its_parent(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "state")],
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
    finally:
        if parent.poll() is None:
            parent.kill()
