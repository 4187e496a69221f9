"""The state queries every device answers alike (rig.world.Device.read_state), as one check.

The Android tests run it on the virtual phone and the VM tests on a real QEMU
laptop: the same queries, the same answers, so scoring can be written once.
"""

from __future__ import annotations

import hashlib
import shlex
from typing import Any

import pytest

from scoring import state

ODD = 'it\'s "$x" `id` 50% 😀 日本'


def assert_shared_kinds(device: Any, home: str) -> None:
    """``home`` is where the device's ``~/`` lives (``/sdcard`` on a phone)."""
    base = f"{home}/clawrig-vocab"
    made = device.read_state(
        {
            "kind": "command",
            "command": f"rm -rf {base} && mkdir -p '{base}/sub dir' && printf abc > {base}/a.txt"
            f" && printf '%s' {shlex.quote(ODD)}"
            f" > '{base}/sub dir/b.txt'",
        }
    )
    assert made["exit_code"] == 0, made
    assert device.read_state({"kind": "file", "path": "~/clawrig-vocab/a.txt"}) == b"abc"
    assert device.read_state({"kind": "file", "path": f"{base}/sub dir/b.txt"}) == ODD.encode()
    with pytest.raises(FileNotFoundError):
        device.read_state({"kind": "file", "path": "~/clawrig-vocab/missing.txt"})
    abc = hashlib.sha256(b"abc").hexdigest()
    assert device.read_state({"kind": "sha256", "path": "~/clawrig-vocab/a.txt"}) == abc
    assert device.read_state({"kind": "tree_hashes", "root": "~/clawrig-vocab"}) == {
        f"{base}/a.txt": abc,
        f"{base}/sub dir/b.txt": hashlib.sha256(ODD.encode()).hexdigest(),
    }
    assert device.read_state({"kind": "tree_hashes", "root": "~/clawrig-none"}) == {}
    out = device.read_state({"kind": "command", "command": "echo hi; echo err >&2; exit 3"})
    assert out == {"stdout": "hi\n", "stderr": "err\n", "exit_code": 3}
    # Scoring speaks only this vocabulary.
    assert state.read_file(device, "~/clawrig-vocab/missing.txt") is None
    assert state.read_file(device, "~/clawrig-vocab/a.txt") == b"abc"
    assert state.run_command(device, "printf x; exit 2") == (2, "x", "")
    assert state.tree_hashes(device, f"{base}/sub dir") == {
        f"{base}/sub dir/b.txt": hashlib.sha256(ODD.encode()).hexdigest()
    }
