"""uiautomator2, unchanged, connects to the phone through a private adb server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

SCRIPT = """
import json, sys
import uiautomator2 as u2
d = u2.connect(sys.argv[1])
info = d.info
xml = d.dump_hierarchy()
d.click(540, 1200)
print(json.dumps({"info": info, "xml_head": xml[:200], "size": list(d.window_size()),
                  "shot": list(d.screenshot().size)}))
"""


def test_u2_connect_info_hierarchy_click_screenshot(adb29, phone):
    # adbutils' default client (used by uiautomator2) reads the server port from the env
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb29.port)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, phone.serial],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    size = [phone.ctx.display.width, phone.ctx.display.height]
    assert result["info"]["displayWidth"] == size[0]
    assert result["info"]["sdkInt"] == 34
    assert "<hierarchy" in result["xml_head"]
    assert result["size"] == size
    assert result["shot"] == size
