"""Screens must not depend on the process: an avatar's colour is the same in every run."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "from emulator.sim.ui.apps.contacts import avatar;"
    "print([avatar(k) for k in ('Lena Weber', 'Jonas', 42, '王芳')])"
)


def test_avatar_colour_does_not_change_with_the_hash_seed():
    seen = {
        subprocess.run(
            [sys.executable, "-c", PROBE],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(seen) == 1, seen
