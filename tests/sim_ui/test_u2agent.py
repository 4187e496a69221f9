"""The uiautomator2 agent over real HTTP on loopback, as the adb tcp:9008 stream reaches it."""

from __future__ import annotations

import base64
import http.client
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from uiautomator2._selector import Selector

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.system import UiSystem
from emulator.sim.ui.u2agent import start_u2_agent, stop_u2_agent
from tests.sim_ui.screen import find


@pytest.fixture
def agent(ctx: PhoneContext) -> Iterator[tuple[str, int]]:
    addr = start_u2_agent(ctx)
    yield addr
    stop_u2_agent(ctx)


def request(
    addr: tuple[str, int], method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*addr, timeout=10)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def rpc(addr: tuple[str, int], method: str, *params: Any) -> dict[str, Any]:
    payload = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
    status, body = request(addr, "POST", "/jsonrpc/0", json.dumps(payload).encode())
    assert status == 200
    reply = json.loads(body)
    assert reply["id"] == 7
    return reply


def test_ping_and_registration(ctx: PhoneContext, agent: tuple[str, int]) -> None:
    assert agent[0] == "127.0.0.1"
    assert ctx.tcp_ports[9008] == agent
    assert request(agent, "GET", "/ping") == (200, b"pong")
    assert request(agent, "GET", "/nothing")[0] == 404
    assert start_u2_agent(ctx) == agent  # idempotent per phone


def test_device_info_and_hierarchy(ui: UiSystem, agent: tuple[str, int]) -> None:
    info = rpc(agent, "deviceInfo")["result"]
    assert info["currentPackageName"] == "com.google.android.apps.nexuslauncher"
    assert (info["displayWidth"], info["displayHeight"]) == (1080, 2400)
    assert (info["displaySizeDpX"], info["displaySizeDpY"]) == (411, 914)
    assert info["sdkInt"] == 34 and info["screenOn"] is True
    assert rpc(agent, "dumpWindowHierarchy", False, 50)["result"] == ui.hierarchy_xml()


def test_click_swipe_keys_and_screenshot(ui: UiSystem, agent: tuple[str, int]) -> None:
    x, y = find(ui, text="Settings").center
    assert rpc(agent, "click", x, y)["result"] is True
    assert ui.focus()[0] == "com.android.settings"
    jpg = base64.b64decode(rpc(agent, "takeScreenshot", 1, 80)["result"])
    img = Image.open(io.BytesIO(jpg))
    assert img.format == "JPEG" and img.size == (1080, 2400)
    half = Image.open(io.BytesIO(base64.b64decode(rpc(agent, "takeScreenshot", 0.5, 50)["result"])))
    assert half.size == (540, 1200)
    assert rpc(agent, "pressKey", "home")["result"] is True
    assert ui.focus()[0] == "com.google.android.apps.nexuslauncher"
    assert rpc(agent, "pressKeyCode", 187)["result"] is True
    assert find(ui, text="Recent apps")
    assert rpc(agent, "swipe", 540, 1800, 540, 600, 10)["result"] is True
    assert "error" in rpc(agent, "pressKey", "no-such-key")


def test_selectors_set_text_and_clipboard(
    ctx: PhoneContext, ui: UiSystem, agent: tuple[str, int]
) -> None:
    ui.start("com.android.contacts")
    sel = Selector(text="Add contact")
    assert rpc(agent, "waitForExists", sel, 100)["result"] is True
    info = rpc(agent, "objInfo", sel)["result"]
    assert info["className"] == "android.widget.Button" and info["clickable"] is True
    assert rpc(agent, "click", sel)["result"] is True
    field = Selector(resourceId="com.android.contacts:id/first_name")
    assert rpc(agent, "setText", field, 'O\'Brien "$HOME" 🎉')["result"] is True
    assert rpc(agent, "getText", field)["result"] == 'O\'Brien "$HOME" 🎉'
    rpc(agent, "setClipboard", "label", "粘贴 text")
    assert rpc(agent, "getClipboard")["result"] == "粘贴 text"
    rpc(agent, "click", *find(ui, rid="last_name").center)
    rpc(agent, "pasteClipboard")
    assert find(ui, rid="last_name").text == "粘贴 text"
    assert rpc(agent, "count", Selector(className="android.widget.EditText"))["result"] == 4
    focused = Selector(focused=True)
    assert rpc(agent, "objInfo", focused)["result"]["resourceName"].endswith("last_name")
    missing = rpc(agent, "objInfo", Selector(text="No such thing"))
    assert missing["error"]["code"] == -32002
    assert "UiObjectNotFoundException" in missing["error"]["message"]
    assert rpc(agent, "waitForExists", Selector(text="No such thing"), 200)["result"] is False


def test_bad_requests_get_errors_not_a_dead_agent(agent: tuple[str, int]) -> None:
    status, body = request(agent, "POST", "/jsonrpc/0", b"{broken")
    assert status == 200 and json.loads(body)["error"]["code"] == -32700
    assert rpc(agent, "noSuchMethod")["error"]["code"] == -32601
    assert rpc(agent, "click", "x")["error"]["code"] == -32602
    assert request(agent, "GET", "/ping") == (200, b"pong")


def test_stop_frees_the_port(ctx: PhoneContext) -> None:
    addr = start_u2_agent(ctx)
    stop_u2_agent(ctx)
    assert 9008 not in ctx.tcp_ports
    with pytest.raises(OSError):
        request(addr, "GET", "/ping")


def test_scrollable_methods(ctx: PhoneContext, ui: UiSystem, agent: tuple[str, int]) -> None:
    from tests.sim_ui.test_apps import add_contact

    for i in range(30):
        add_contact(ctx, f"Member {i:02d}", f"+1 555 02{i:02d}")
    ui.start("com.android.contacts")
    lst = Selector(scrollable=True)
    assert rpc(agent, "scrollTo", lst, Selector(text="Member 25"), True)["result"] is True
    assert find(ui, text="Member 25")
    assert rpc(agent, "scrollToEnd", lst, True, 50, 55)["result"] is True
    assert find(ui, text="Member 29")
    assert rpc(agent, "scrollForward", lst, True, 55)["result"] is False  # at the end
    assert rpc(agent, "flingBackward", lst, True)["result"] is True
    assert rpc(agent, "scrollToBeginning", lst, True, 50, 55)["result"] is True
    assert find(ui, text="Member 00")
    assert rpc(agent, "scrollTo", lst, Selector(text="Nobody"), True)["result"] is False
    assert rpc(agent, "scrollForward", lst, False, 55)["result"] is False  # no horizontal


def test_wait_for_idle_waits_for_pending_frames(ui: UiSystem, agent: tuple[str, int]) -> None:
    """``waitForIdle`` returns at once on a still screen and when an animation's last frame
    is drawn; an endless one holds it for the whole timeout (answered true, as UiDevice does)."""
    from emulator.sim.ui.apps.motion import DETAILS_MS

    assert not ui.frame_pending()
    t0 = time.monotonic()
    assert rpc(agent, "waitForIdle", 5000)["result"] is True
    assert time.monotonic() - t0 < 1.0
    motion = ui.app("com.clawrig.motion")
    ui.start(motion.package)
    ui.push(motion, "details", opened=time.time())
    assert ui.frame_pending()
    t0 = time.monotonic()
    assert rpc(agent, "waitForIdle", 5000)["result"] is True
    assert DETAILS_MS / 1000 - 0.05 <= time.monotonic() - t0 < 3.0
    assert not ui.frame_pending()
    ui.push(motion, "spinner", opened=time.time())
    assert not ui.wait_idle(0.3) and ui.frame_pending()
    t0 = time.monotonic()
    assert rpc(agent, "waitForIdle", 300)["result"] is True
    assert time.monotonic() - t0 >= 0.3
    a = rpc(agent, "takeScreenshot", 0.25, 50)["result"]
    time.sleep(0.05)
    assert rpc(agent, "takeScreenshot", 0.25, 50)["result"] != a  # it really moves
