"""Motion: a test app with screens that keep drawing frames by themselves.

No launcher icon (start it with ``am start -n com.clawrig.motion/.MainActivity``).
"Open details" opens a screen whose progress bar fills in ``DETAILS_MS`` (an
entrance animation, like a real app's); "Spin" opens one whose bar never stops.
Frames advance at 60 Hz of host time, not the phone's frozen clock, so
``screencap`` mid-animation shows a partly filled bar and
``UiSystem.wait_idle`` (uiautomator2's ``waitForIdle``) has something to wait for.
"""

from __future__ import annotations

import math
import time
from typing import ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen
from emulator.sim.ui.widgets import ProgressBar, Text

DETAILS_MS = 400
FPS = 60


def _frame_index(since: float) -> int:
    return int(max(0.0, time.time() - since) * FPS)


class MotionApp(App):
    package = "com.clawrig.motion"
    label = "Motion"
    color = (0, 137, 123)
    apk = "/data/app/com.clawrig.motion/base.apk"
    activities: ClassVar[dict[str, str]] = {
        "main": ".MainActivity",
        "details": ".DetailsActivity",
        "spinner": ".SpinnerActivity",
    }
    item_screens = frozenset({"details", "spinner"})
    in_launcher = False

    def screen_main(self, entry: Entry) -> Screen:
        return Screen(
            self.toolbar("Motion", up=False),
            [
                self.button(
                    "Open details", lambda: self.ui.push(self, "details", opened=time.time())
                ),
                self.button("Spin", lambda: self.ui.push(self, "spinner", opened=time.time())),
            ],
        )

    def screen_details(self, entry: Entry) -> Screen:
        opened = float(entry["args"].get("opened", 0.0))
        frames = DETAILS_MS * FPS // 1000
        done = min(_frame_index(opened), frames)
        return Screen(
            self.toolbar("Details"),
            [
                Text(text="Loaded", rid="details_title", size=20, bold=True),
                ProgressBar(rid="details_progress", progress=1000 * done // frames),
            ],
            frames_until=opened + DETAILS_MS / 1000,
        )

    def screen_spinner(self, entry: Entry) -> Screen:
        opened = float(entry["args"].get("opened", 0.0))
        return Screen(
            self.toolbar("Spinning"),
            [ProgressBar(rid="spinner", progress=(_frame_index(opened) * 37) % 1000)],
            frames_until=math.inf,
        )
