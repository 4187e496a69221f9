"""The uiautomator2 on-device server, played by a loopback HTTP server.

uiautomator2 talks JSON-RPC over HTTP to port 9008 on the device (through an
adb ``tcp:9008`` stream). The transport pipes that stream to the address
:func:`start_u2_agent` returns, so ``uiautomator2.connect(serial)`` finds a
live server at ``/ping`` and never needs to launch its jar. Methods answer
from the phone's :class:`~emulator.sim.ui.system.UiSystem`; errors use the
real server's codes and exception names, which the client matches on.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from emulator.sim.contracts import PhoneContext

log = logging.getLogger(__name__)

DEVICE_PORT = 9008

# uiautomator2's pressKey names -> KEYCODE_*
KEY_NAMES = {
    "home": 3,
    "back": 4,
    "left": 21,
    "right": 22,
    "up": 19,
    "down": 20,
    "center": 23,
    "menu": 82,
    "search": 84,
    "enter": 66,
    "delete": 67,
    "del": 67,
    "recent": 187,
    "volume_up": 24,
    "volume_down": 25,
    "volume_mute": 164,
    "camera": 27,
    "power": 26,
    "tab": 61,
    "space": 62,
}

_AGENTS: dict[int, tuple[ThreadingHTTPServer, threading.Thread]] = {}
_AGENTS_LOCK = threading.Lock()


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _not_found(selector: Any) -> RpcError:
    return RpcError(-32002, f"androidx.test.uiautomator.UiObjectNotFoundException: {selector}")


# -- selectors ----------------------------------------------------------------------------
_MATCHERS: dict[str, Callable[[ET.Element, Any], bool]] = {
    "text": lambda n, v: n.get("text") == v,
    "textContains": lambda n, v: v in n.get("text", ""),
    "textMatches": lambda n, v: re.fullmatch(v, n.get("text", ""), re.S) is not None,
    "textStartsWith": lambda n, v: n.get("text", "").startswith(v),
    "className": lambda n, v: n.get("class") == v,
    "classNameMatches": lambda n, v: re.fullmatch(v, n.get("class", "")) is not None,
    "description": lambda n, v: n.get("content-desc") == v,
    "descriptionContains": lambda n, v: v in n.get("content-desc", ""),
    "descriptionMatches": lambda n, v: re.fullmatch(v, n.get("content-desc", ""), re.S) is not None,
    "descriptionStartsWith": lambda n, v: n.get("content-desc", "").startswith(v),
    "checkable": lambda n, v: (n.get("checkable") == "true") == bool(v),
    "checked": lambda n, v: (n.get("checked") == "true") == bool(v),
    "clickable": lambda n, v: (n.get("clickable") == "true") == bool(v),
    "longClickable": lambda n, v: (n.get("long-clickable") == "true") == bool(v),
    "scrollable": lambda n, v: (n.get("scrollable") == "true") == bool(v),
    "enabled": lambda n, v: (n.get("enabled") == "true") == bool(v),
    "focusable": lambda n, v: (n.get("focusable") == "true") == bool(v),
    "focused": lambda n, v: (n.get("focused") == "true") == bool(v),
    "selected": lambda n, v: (n.get("selected") == "true") == bool(v),
    "packageName": lambda n, v: n.get("package") == v,
    "packageNameMatches": lambda n, v: re.fullmatch(v, n.get("package", "")) is not None,
    "resourceId": lambda n, v: n.get("resource-id") == v,
    "resourceIdMatches": lambda n, v: re.fullmatch(v, n.get("resource-id", "")) is not None,
    "index": lambda n, v: n.get("index") == str(v),
}


def _matches(node: ET.Element, selector: dict[str, Any]) -> bool:
    for key, value in selector.items():
        matcher = _MATCHERS.get(key)
        if matcher is not None and not matcher(node, value):
            return False
    return True


def find(xml: str, selector: dict[str, Any]) -> list[ET.Element]:
    """Nodes matching a uiautomator2 ``Selector`` dict, in document order."""
    root = ET.fromstring(xml.encode("utf-8"))
    parents = {c: p for p in root.iter() for c in p}
    nodes = [n for n in root.iter("node") if _matches(n, selector)]
    for how, sub in zip(
        selector.get("childOrSibling") or [],
        selector.get("childOrSiblingSelector") or [],
        strict=False,
    ):
        found: list[ET.Element] = []
        for n in nodes:
            pool = (
                list(n.iter("node"))[1:]
                if how == "child"
                else [s for s in parents.get(n, root) if s is not n]
            )
            found.extend(s for s in pool if _matches(s, sub) and s not in found)
        inst = sub.get("instance")
        nodes = (
            found[inst : inst + 1]
            if isinstance(inst, int) and sub.get("mask", 0) & (0x01000000)
            else found
        )
    inst = selector.get("instance")
    if (
        not selector.get("childOrSibling")
        and isinstance(inst, int)
        and (selector.get("mask", 0) & 0x01000000)
    ):
        nodes = nodes[inst : inst + 1]
    return nodes


def _bounds(node: ET.Element) -> tuple[int, int, int, int]:
    m = re.fullmatch(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]", node.get("bounds", ""))
    if m is None:
        return (0, 0, 0, 0)
    x1, y1, x2, y2 = (int(g) for g in m.groups())
    return (x1, y1, x2, y2)


def obj_info(node: ET.Element) -> dict[str, Any]:
    x1, y1, x2, y2 = _bounds(node)
    box = {"left": x1, "top": y1, "right": x2, "bottom": y2}
    t = lambda k: node.get(k) == "true"  # noqa: E731
    return {
        "bounds": box,
        "visibleBounds": dict(box),
        "childCount": len(list(node)),
        "className": node.get("class"),
        "contentDescription": node.get("content-desc") or None,
        "packageName": node.get("package"),
        "resourceName": node.get("resource-id") or None,
        "text": node.get("text", ""),
        "checkable": t("checkable"),
        "checked": t("checked"),
        "clickable": t("clickable"),
        "enabled": t("enabled"),
        "focusable": t("focusable"),
        "focused": t("focused"),
        "longClickable": t("long-clickable"),
        "scrollable": t("scrollable"),
        "selected": t("selected"),
    }


# -- the RPC methods ------------------------------------------------------------------------
class Agent:
    """Answers uiautomator2 JSON-RPC calls against one phone."""

    def __init__(self, ctx: PhoneContext) -> None:
        self.ctx = ctx
        self._touch: tuple[int, int, float] | None = None

    @property
    def ui(self) -> Any:
        if self.ctx.ui is None:
            raise RpcError(-32001, "java.lang.IllegalStateException: UiAutomation not connected")
        return self.ctx.ui

    def call(self, method: str, params: Any) -> Any:
        fn = getattr(self, "rpc_" + method, None)
        if fn is None:
            raise RpcError(-32601, f"Method not found: {method}")
        if isinstance(params, dict):
            return fn(**params)
        return fn(*(params or []))

    def _one(self, selector: dict[str, Any]) -> ET.Element:
        nodes = find(self.ui.hierarchy_xml(), selector)
        if not nodes:
            raise _not_found(selector)
        return nodes[0]

    def _wait(self, selector: dict[str, Any], timeout_ms: int, present: bool) -> bool:
        deadline = time.monotonic() + max(0, int(timeout_ms)) / 1000
        while True:
            if bool(find(self.ui.hierarchy_xml(), selector)) == present:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    # screen
    def rpc_dumpWindowHierarchy(
        self, compressed: bool = False, max_depth: int = 50, root_in_active: bool | None = None
    ) -> str:
        return self.ui.hierarchy_xml()

    def rpc_takeScreenshot(self, scale: float = 1, quality: int = 80) -> str:
        return base64.b64encode(self.ui.screenshot_jpeg(float(scale or 1), int(quality))).decode(
            "ascii"
        )

    def rpc_waitForIdle(self, timeout: int = 10_000) -> bool:
        """``UiDevice.waitForIdle(timeout ms)``: returns when no frame is pending. Like the
        real agent it answers true whether or not the wait timed out (UiDevice swallows the
        timeout), so a caller confirms stillness by comparing frames itself."""
        self.ui.wait_idle(max(0, int(timeout)) / 1000)
        return True

    def rpc_deviceInfo(self) -> dict[str, Any]:
        d = self.ctx.display
        pkg = self.ui.focus()[0]
        props = self.ctx.props
        sdk = props.get("ro.build.version.sdk", "34")
        return {
            "currentPackageName": pkg,
            "displayWidth": d.width,
            "displayHeight": d.height,
            "displayRotation": 0,
            "displaySizeDpX": round(d.width * 160 / d.density),
            "displaySizeDpY": round(d.height * 160 / d.density),
            "productName": props.get("ro.product.name", "sdk_gphone64_x86_64"),
            "screenOn": True,
            "sdkInt": int(sdk) if sdk.isdigit() else 34,
            "naturalOrientation": True,
        }

    # touch
    def rpc_click(self, *args: Any) -> bool:
        if args and isinstance(args[0], dict):  # click(selector)
            x1, y1, x2, y2 = _bounds(self._one(args[0]))
            self.ui.tap((x1 + x2) // 2, (y1 + y2) // 2)
            return True
        x, y = int(args[0]), int(args[1])
        if len(args) > 2 and int(args[2]) >= 500:
            self.ui.long_press(x, y, int(args[2]))
        else:
            self.ui.tap(x, y)
        return True

    def rpc_longClick(self, *args: Any) -> bool:
        if args and isinstance(args[0], dict):
            x1, y1, x2, y2 = _bounds(self._one(args[0]))
            self.ui.long_press((x1 + x2) // 2, (y1 + y2) // 2, 1000)
        else:
            self.ui.long_press(int(args[0]), int(args[1]), 1000)
        return True

    def rpc_swipe(self, fx: int, fy: int, tx: int, ty: int, steps: int = 10) -> bool:
        # One uiautomator step is about 5 ms of finger movement.
        self.ui.swipe(int(fx), int(fy), int(tx), int(ty), max(1, int(steps)) * 5)
        return True

    def rpc_drag(self, sx: int, sy: int, ex: int, ey: int, steps: int = 10) -> bool:
        return self.rpc_swipe(sx, sy, ex, ey, steps)

    def rpc_swipePoints(self, points: list[int], steps: int = 10) -> bool:
        if len(points) < 4:
            raise RpcError(-32602, "swipePoints needs at least two points")
        n = len(points) // 2 - 1
        return self.rpc_swipe(
            points[0], points[1], points[2 * n], points[2 * n + 1], steps * max(1, n)
        )

    def rpc_injectInputEvent(self, action: int, x: float, y: float, meta: int = 0) -> bool:
        if action == 0:  # ACTION_DOWN
            self._touch = (int(x), int(y), time.monotonic())
        elif action == 1 and self._touch is not None:  # ACTION_UP
            sx, sy, t0 = self._touch
            self._touch = None
            self.ui.swipe(sx, sy, int(x), int(y), int((time.monotonic() - t0) * 1000))
        return True

    # keys
    def rpc_pressKey(self, key: str) -> bool:
        code = KEY_NAMES.get(str(key).lower())
        if code is None:
            raise RpcError(-32602, f"java.lang.IllegalArgumentException: unknown key {key}")
        self.ui.keyevent(code)
        return True

    def rpc_pressKeyCode(self, code: int, meta: int = 0) -> bool:
        self.ui.keyevent(int(code))
        return True

    # text
    def rpc_setText(self, selector: dict[str, Any], text: str) -> bool:
        x1, y1, x2, y2 = _bounds(self._one(selector))
        self.ui.tap((x1 + x2) // 2, (y1 + y2) // 2)
        self.ui.replace_focused(str(text))
        return True

    def rpc_clearTextField(self, selector: dict[str, Any]) -> bool:
        return self.rpc_setText(selector, "")

    def rpc_getText(self, selector: dict[str, Any]) -> str:
        return self._one(selector).get("text", "")

    def rpc_clearInputText(self) -> bool:
        self.ui.replace_focused("")
        return True

    def rpc_setClipboard(self, label: str | None, text: str) -> None:
        self.ctx.clipboard = str(text)

    def rpc_getClipboard(self) -> str:
        return self.ctx.clipboard

    def rpc_pasteClipboard(self) -> None:
        self.ui.paste()

    # selectors
    def rpc_exist(self, selector: dict[str, Any]) -> bool:
        return bool(find(self.ui.hierarchy_xml(), selector))

    def rpc_count(self, selector: dict[str, Any]) -> int:
        return len(find(self.ui.hierarchy_xml(), selector))

    def rpc_objInfo(self, selector: dict[str, Any]) -> dict[str, Any]:
        return obj_info(self._one(selector))

    def rpc_objInfoOfAllInstances(self, selector: dict[str, Any]) -> list[dict[str, Any]]:
        return [obj_info(n) for n in find(self.ui.hierarchy_xml(), selector)]

    def rpc_waitForExists(self, selector: dict[str, Any], timeout: int = 0) -> bool:
        return self._wait(selector, timeout, True)

    def rpc_waitUntilGone(self, selector: dict[str, Any], timeout: int = 0) -> bool:
        return self._wait(selector, timeout, False)

    # scrolling a scrollable node (UiScrollable): True while it moved
    def _scroll(self, selector: dict[str, Any], vertical: bool, forward: bool, fling: bool) -> bool:
        if not vertical:
            return False  # this phone has no horizontal scrollers
        x1, y1, x2, y2 = _bounds(self._one(selector))
        before = self.ui.hierarchy_xml()
        x = (x1 + x2) // 2
        top, bottom = y1 + (y2 - y1) // 5, y2 - (y2 - y1) // 5
        start, end = (bottom, top) if forward else (top, bottom)
        self.ui.swipe(x, start, x, end, 100 if fling else 600)
        return self.ui.hierarchy_xml() != before

    def _scroll_all(
        self,
        selector: dict[str, Any],
        vertical: bool,
        forward: bool,
        max_swipes: int,
        fling: bool = False,
    ) -> bool:
        for _ in range(max(1, int(max_swipes))):
            if not self._scroll(selector, vertical, forward, fling):
                break
        return True

    def rpc_scrollForward(
        self, selector: dict[str, Any], vertical: bool = True, steps: int = 55
    ) -> bool:
        return self._scroll(selector, vertical, True, False)

    def rpc_scrollBackward(
        self, selector: dict[str, Any], vertical: bool = True, steps: int = 55
    ) -> bool:
        return self._scroll(selector, vertical, False, False)

    def rpc_scrollToEnd(
        self,
        selector: dict[str, Any],
        vertical: bool = True,
        max_swipes: int = 500,
        steps: int = 55,
    ) -> bool:
        return self._scroll_all(selector, vertical, True, max_swipes)

    def rpc_scrollToBeginning(
        self,
        selector: dict[str, Any],
        vertical: bool = True,
        max_swipes: int = 500,
        steps: int = 55,
    ) -> bool:
        return self._scroll_all(selector, vertical, False, max_swipes)

    def rpc_flingForward(self, selector: dict[str, Any], vertical: bool = True) -> bool:
        return self._scroll(selector, vertical, True, True)

    def rpc_flingBackward(self, selector: dict[str, Any], vertical: bool = True) -> bool:
        return self._scroll(selector, vertical, False, True)

    def rpc_flingToEnd(
        self, selector: dict[str, Any], vertical: bool = True, max_swipes: int = 500
    ) -> bool:
        return self._scroll_all(selector, vertical, True, max_swipes, fling=True)

    def rpc_flingToBeginning(
        self, selector: dict[str, Any], vertical: bool = True, max_swipes: int = 500
    ) -> bool:
        return self._scroll_all(selector, vertical, False, max_swipes, fling=True)

    def rpc_scrollTo(
        self, selector: dict[str, Any], target: dict[str, Any], vertical: bool = True
    ) -> bool:
        """Scroll forward until ``target`` is on screen; False when the end shows no match."""
        for _ in range(500):
            if find(self.ui.hierarchy_xml(), target):
                return True
            if not self._scroll(selector, vertical, True, False):
                return bool(find(self.ui.hierarchy_xml(), target))
        return False

    # device state with nothing to change on this phone (always awake, portrait)
    def rpc_wakeUp(self) -> None:
        return None

    def rpc_freezeRotation(self, freeze: bool = True) -> None:
        return None

    def rpc_openNotification(self) -> bool:
        self.ui.open_shade()
        return True

    def rpc_openQuickSettings(self) -> bool:
        self.ui.open_shade()
        return True

    def rpc_getLastToast(self) -> None:
        return None

    def rpc_clearLastToast(self) -> None:
        return None


def _handler(agent: Agent) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        server_version = "uiautomator2-sim"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("u2 agent: " + fmt, *args)

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._send(200, b"pong", "text/plain")
            else:
                self._send(404, b"Not Found", "text/plain")

        def do_POST(self) -> None:
            if self.path != "/jsonrpc/0":
                self._send(404, b"Not Found", "text/plain")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("request is not a JSON object")
            except ValueError as exc:
                body = {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32700, "message": f"Parse error: {exc}"},
                }
                self._send(200, json.dumps(body).encode(), "application/json")
                return
            rid = request.get("id")
            try:
                result = agent.call(str(request.get("method")), request.get("params"))
                body = {"jsonrpc": "2.0", "id": rid, "result": result}
            except RpcError as exc:
                body = {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {"code": exc.code, "message": str(exc), "data": str(exc)},
                }
            except (TypeError, ValueError) as exc:
                body = {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {
                        "code": -32602,
                        "message": f"Invalid params: {exc}",
                        "data": str(exc),
                    },
                }
            except Exception as exc:  # a bug in one call must not kill the agent
                log.exception("u2 agent: %s failed", request.get("method"))
                body = {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {
                        "code": -32603,
                        "message": f"Internal error: {exc!r}",
                        "data": str(exc),
                    },
                }
            self._send(
                200,
                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                "application/json; charset=utf-8",
            )

    return Handler


def start_u2_agent(ctx: PhoneContext) -> tuple[str, int]:
    """Serve the agent on an ephemeral loopback port and map device ``tcp:9008`` to it."""
    with _AGENTS_LOCK:
        running = _AGENTS.get(id(ctx))
        if running is not None:
            host, port = running[0].server_address[:2]
            return str(host), int(port)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Agent(ctx)))
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, name=f"u2agent-{ctx.serial}", daemon=True
        )
        thread.start()
        _AGENTS[id(ctx)] = (server, thread)
        host, port = server.server_address[:2]
        ctx.tcp_ports[DEVICE_PORT] = (str(host), int(port))
        return str(host), int(port)


def stop_u2_agent(ctx: PhoneContext | None = None) -> None:
    """Stop the agent of ``ctx`` (or every agent in this process when ``ctx`` is None)."""
    with _AGENTS_LOCK:
        keys = list(_AGENTS) if ctx is None else [id(ctx)]
        for key in keys:
            entry = _AGENTS.pop(key, None)
            if entry is None:
                continue
            server, thread = entry
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        if ctx is not None:
            ctx.tcp_ports.pop(DEVICE_PORT, None)
