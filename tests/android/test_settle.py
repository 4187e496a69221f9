"""settle(): a still screen costs a few small frames, an animation that never ends is reported
as not settled, and a tap that opens an animated screen is settled before the next look.
Both ways are tested: uiautomator2's ``waitForIdle`` (the virtual phone's agent) and raw-frame
sampling (a device object that does not use the agent). The animations come from the phone's
Motion test app (emulator/sim/ui/apps/motion.py)."""

from __future__ import annotations

import re
import time

import pytest

from emulator.device import AdbAndroidDevice
from rig.env import Env
from rig.world import World

pytestmark = pytest.mark.integration

MOTION = "com.clawrig.motion/.MainActivity"
BAR = (0, 137, 123)


def _ways(phone: AdbAndroidDevice) -> dict[str, AdbAndroidDevice]:
    sampling = AdbAndroidDevice(phone.server, phone.serial)
    sampling._u2_ok = False  # as on a device where the agent does not run
    return {"waitForIdle": phone, "sampling": sampling}


@pytest.fixture(params=["waitForIdle", "sampling"])
def device(request, phone: AdbAndroidDevice) -> AdbAndroidDevice:
    return _ways(phone)[request.param]


def _bounds(tree: str, rid: str) -> tuple[int, int, int, int]:
    m = re.search(
        rf'resource-id="[^"]*{re.escape(rid)}"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', tree
    )
    assert m, f"{rid} not on screen"
    return tuple(int(v) for v in m.groups())  # type: ignore[return-value]


def _tap_button(device: AdbAndroidDevice, text: str) -> None:
    m = re.search(
        rf'text="{re.escape(text)}"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', device.ui_tree()
    )
    assert m, f"no {text!r} button"
    x1, y1, x2, y2 = (int(v) for v in m.groups())
    device.tap((x1 + x2) // 2, (y1 + y2) // 2)


def _open_motion(device: AdbAndroidDevice) -> None:
    device.launch(MOTION)
    assert device.settle(timeout=5)


def test_a_still_screen_settles_at_once(device: AdbAndroidDevice) -> None:
    device.key("home")
    device.settle(timeout=5)
    result = device.settle(timeout=5)
    assert result and result.settled
    if result.method == "waitForIdle":
        assert result.frames == 2  # one frame before the idle wait, one after, equal
    assert result.waited_s < 2


def test_an_endless_animation_is_not_settled(device: AdbAndroidDevice) -> None:
    _open_motion(device)
    _tap_button(device, "Spin")
    t0 = time.monotonic()
    result = device.settle(timeout=1.0)
    took = time.monotonic() - t0
    assert not result and result.settled is False
    assert 1.0 <= took < 6.0 and result.frames >= 2
    device.key("back")
    assert device.settle(timeout=5)  # back on a still screen


def test_a_tap_that_opens_a_screen_is_settled_before_the_next_look(
    device: AdbAndroidDevice,
) -> None:
    _open_motion(device)
    _tap_button(device, "Open details")
    result = device.settle(timeout=5)
    assert result, result
    x1, y1, x2, y2 = _bounds(device.ui_tree(), "details_progress")
    shot = device.screenshot()
    # 90% along the bar: the fill reaches it only in the animation's last frames.
    assert shot.getpixel((x1 + (x2 - x1) * 9 // 10, (y1 + y2) // 2)) == BAR
    device.key("back")


def test_env_reports_whether_the_screen_settled(phone: AdbAndroidDevice) -> None:
    world = World()
    world.add(phone)
    env = Env(world, "watch the bar")
    env.reset()
    obs, _, _ = env.step({"action": "launch", "device": "phone", "app": MOTION})
    assert obs.ok and obs.settled is True
    button = next(e for e in env.elements("phone") if e.text == "Open details")
    obs, _, _ = env.step({"action": "tap", "device": "phone", "element": button.id})
    assert obs.ok and obs.settled is True and "Loaded" in (obs.text or "")
    assert obs.for_model()["settled"] is True
    env.step({"action": "key", "device": "phone", "key": "back"})


def test_env_checks_taps_against_the_last_screenshot(phone: AdbAndroidDevice, monkeypatch) -> None:
    """A tap inside the screen the last observation showed needs no ``wm size`` request;
    one outside it is checked against the device's current size (it may have rotated)."""
    world = World()
    world.add(phone)
    env = Env(world, "tap around")
    env.reset()  # a screenshot: its size is the screen's
    w, h = phone.window_size()  # the device object's own check caches the size too
    asked: list[tuple[int, int]] = []
    real = phone.window_size

    def counting() -> tuple[int, int]:
        asked.append(real())
        return asked[-1]

    monkeypatch.setattr(phone, "window_size", counting)
    assert env.step({"action": "tap", "device": "phone", "x": w // 2, "y": 5})[0].ok
    assert asked == []
    obs, _, _ = env.step({"action": "tap", "device": "phone", "x": w + 3, "y": 5})
    assert not obs.ok and "off the screen" in (obs.error or "") and asked == [(w, h)]
