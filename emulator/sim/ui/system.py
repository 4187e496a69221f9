"""The phone's window manager: back stack, input routing, frames, and their caches.

Every call builds the current screen from app state and the phone's data
(so a row inserted with ``content insert`` shows at once), lays it out, and
derives three things from that one layout: the hierarchy XML, the hit-test
list, and — only when something drawn changed (the XML, the caret, or any
view's plain attributes: colours, bold, offsets) — a freshly drawn frame. A
frame and its PNG are cached under that signature, which keeps repeated
screenshots cheap without ever showing stale pixels.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import struct
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui import chrome, hierarchy, render, shade
from emulator.sim.ui.apps import all_apps
from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.hierarchy import Window
from emulator.sim.ui.keys import (
    KEY_APP_SWITCH,
    KEY_BACK,
    KEY_CHARS,
    KEY_DEL,
    KEY_DPAD_CENTER,
    KEY_DPAD_DOWN,
    KEY_DPAD_LEFT,
    KEY_DPAD_RIGHT,
    KEY_DPAD_UP,
    KEY_ENTER,
    KEY_ESCAPE,
    KEY_FORWARD_DEL,
    KEY_HOME,
    KEY_MOVE_END,
    KEY_MOVE_HOME,
    KEY_PAGE_DOWN,
    KEY_PAGE_UP,
    KEY_SPACE,
    KEY_TAB,
)
from emulator.sim.ui.render import Box, Canvas
from emulator.sim.ui.views import Column, Metrics, Screen, Scroll, View, walk
from emulator.sim.ui.widgets import Dialog, Field

log = logging.getLogger(__name__)

LAUNCHER = "com.google.android.apps.nexuslauncher"
IDLE_POLL = 0.05  # seconds between checks of a running animation in wait_idle
STATE_VERSION = 1

# Packages that exist on a phone without a launcher icon (for ``pm list packages``).
SYSTEM_PACKAGES = [
    ("android", "/system/framework/framework-res.apk"),
    (chrome.SYSTEMUI, "/system_ext/priv-app/SystemUIGoogle/SystemUIGoogle.apk"),
    ("com.android.shell", "/system/priv-app/Shell/Shell.apk"),
    ("com.android.providers.contacts", "/system/priv-app/ContactsProvider/ContactsProvider.apk"),
    ("com.android.providers.telephony", "/system/priv-app/TelephonyProvider/TelephonyProvider.apk"),
    ("com.android.providers.calendar", "/system/priv-app/CalendarProvider/CalendarProvider.apk"),
    ("com.android.providers.settings", "/system/priv-app/SettingsProvider/SettingsProvider.apk"),
    ("com.android.inputmethod.latin", "/system/app/LatinIME/LatinIME.apk"),
]


@dataclass
class Frame:
    """One laid-out screen: windows in z-order and what a touch can reach."""

    entry: Entry
    screen: Screen
    windows: list[Window]
    scroll: Scroll
    touchable: list[tuple[View, Box]]
    xml: str

    @functools.cached_property
    def signature(self) -> str:
        """What the pixels depend on; equal signatures mean an identical frame."""
        caret = self.entry.get("caret") if self.entry.get("focus") else None
        screen = self.windows[0].root.bounds  # what is out of sight cannot change pixels
        looks = hash(
            tuple(
                v.look() for win in self.windows for v, _, _ in hierarchy.visible(win.root, screen)
            )
        )
        return f"{self.xml}|{caret}|{self.screen.background}|{looks}"


class UiSystem:
    """The :class:`~emulator.sim.contracts.Ui` of a virtual phone.

    Thread-safe: the shell, the uiautomator2 agent and the console may call
    it at once. App state is written to ``STATE/ui.json`` after every input
    that changes it, so a crash loses nothing the user "saw".
    """

    def __init__(self, ctx: PhoneContext, persist: bool = True) -> None:
        self.ctx = ctx
        self._lock = threading.RLock()
        self.apps: dict[str, App] = {cls.package: cls(self) for cls in all_apps()}
        self.stack: list[Entry] = [self.apps[LAUNCHER].entry("home")]
        self.recents: dict[str, list[Entry]] = {}
        self.shade_open = False
        self.dismissed: list[str] = []  # notification keys cleared from the shade
        self._frame_cache: tuple[str, Image.Image] | None = None
        self._png_cache: tuple[str, bytes] | None = None
        self._raw_cache: tuple[str, bytes] | None = None
        self._jpeg_cache: tuple[tuple[str, float, int], bytes] | None = None
        self._state_path = ctx.state_dir / "ui.json" if persist else None
        self._saved = ""
        self._last_focus: tuple[str, str] | None = None
        if self._state_path is not None and self._state_path.exists():
            try:
                self.restore(json.loads(self._state_path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError):
                pass  # a damaged ui.json means a fresh home screen, not a dead phone
        self._last_focus = self.focus()  # what the phone shows once booted
        self._syslog("I", "ActivityTaskManager", "Displayed {}/{}".format(*self._last_focus))

    def _syslog(self, level: str, tag: str, message: str) -> None:
        if self.ctx.log is not None:
            self.ctx.log.write(level, tag, message)

    # -- geometry -----------------------------------------------------------------
    # Read from the context each time: ``wm size``/``wm density`` or a snapshot may change it.
    @property
    def m(self) -> Metrics:
        return Metrics(self.ctx.display.density)

    @property
    def width(self) -> int:
        return self.ctx.display.width

    @property
    def height(self) -> int:
        return self.ctx.display.height

    @property
    def status_h(self) -> int:
        return chrome.status_height(self.m)

    @property
    def nav_h(self) -> int:
        return chrome.nav_height(self.m)

    @property
    def top(self) -> Entry:
        return self.stack[-1]

    def app(self, package: str) -> App:
        return self.apps[package]

    # -- frames -------------------------------------------------------------------
    def _frame(self) -> Frame:
        m, w, h = self.m, self.width, self.height
        entry = self.top
        try:
            screen = self.apps[entry["pkg"]].build(entry)
        except Exception:
            if entry["pkg"] == LAUNCHER:
                raise
            self._crash(entry["pkg"], "drawing " + entry["screen"])
            return self._frame()
        y = self.status_h
        content: list[View] = []
        if screen.toolbar is not None:
            th = screen.toolbar.measure(w, m)
            screen.toolbar.place(0, y, w, th, m)
            content.append(screen.toolbar)
            y += th
        bottom_h = sum(v.measure(w, m) for v in screen.bottom)
        by = h - self.nav_h - bottom_h
        fab_h = m.dp(56) + m.dp(32) if screen.fab else 0
        scroll = Scroll(
            children=screen.body, offset=0, bottom_pad=fab_h, background=screen.background
        )
        scroll.rid = screen.scroll_id
        scroll.place(0, y, w, max(0, by - y), m)
        wanted = entry.get("scroll")
        if wanted is None and screen.stick_to_end:
            wanted = scroll.max_offset
        if wanted:
            scroll.offset = int(wanted)
            scroll.place(0, y, w, max(0, by - y), m)
        content.append(scroll)
        cy = by
        for v in screen.bottom:
            vh = v.measure(w, m)
            v.place(0, cy, w, vh, m)
            content.append(v)
            cy += vh
        decor = Column(content, rid="android:id/content")
        decor.bounds = (0, self.status_h, w, h - self.nav_h)
        root = View(cls="android.widget.FrameLayout", children=[decor])
        root.bounds = (0, 0, w, h)
        if screen.fab is not None:
            fab = screen.fab
            size = m.dp(15)
            fw = render.measure(fab.text, size, True) + m.dp(48)
            fh = m.dp(56)
            fab.bounds = (w - m.dp(16) - fw, by - m.dp(16) - fh, w - m.dp(16), by - m.dp(16))
            root.children.append(fab)
        scrim = None
        if screen.dialog is not None:
            scrim = chrome.Scrim(
                cls="android.widget.FrameLayout",
                on_click=screen.dialog.on_cancel,
                children=[screen.dialog],
            )
            scrim.bounds = (0, 0, w, h)
            screen.dialog.place(0, self.status_h, w, h - self.nav_h - self.status_h, m)
            root.children.append(scrim)
        bars = [
            chrome.status_bar(self.ctx, m, w, bool(shade.notifications(self))),
            chrome.nav_bar(m, w, h, self.keyevent),
        ]
        windows = [Window(entry["pkg"], root), *bars]
        # Like ``uiautomator dump`` (the active window only), a dialog or the pulled-down
        # shade hides the activity behind it from the hierarchy; it is still drawn.
        active = windows if scrim is None else [Window(entry["pkg"], scrim), *bars]
        if self.shade_open:
            panel = shade.build(self, m, w, h, self.nav_h)
            windows = [windows[0], panel, *bars]
            active = [panel, *bars]
        screen_box = (0, 0, w, h)
        touchable: list[tuple[View, Box]] = []
        for win in active:
            for view, box, _ in hierarchy.visible(win.root, screen_box):
                touchable.append((view, box))
        xml = hierarchy.dump(active, screen_box)
        return Frame(entry, screen, windows, scroll, touchable, xml)

    def _draw(self, frame: Frame) -> Image.Image:
        img = Image.new("RGB", (self.width, self.height), frame.screen.background)
        c = Canvas(img)
        for win in frame.windows:
            win.root.draw(c, self.m)
        return img

    def _image(self, frame: Frame) -> Image.Image:
        cached = self._frame_cache
        if cached is not None and cached[0] == frame.signature:
            return cached[1]
        img = self._draw(frame)
        self._frame_cache = (frame.signature, img)
        return img

    # -- Ui protocol: output ----------------------------------------------------------
    def screenshot(self) -> Image.Image:
        """The screen as RGB; a copy, so callers may draw on it."""
        with self._lock:
            return self._image(self._frame()).copy()

    def screenshot_png(self) -> bytes:
        """``screencap -p`` bytes, re-encoded only when the screen changed."""
        with self._lock:
            frame = self._frame()
            if self._png_cache is not None and self._png_cache[0] == frame.signature:
                return self._png_cache[1]
            buf = io.BytesIO()
            self._image(frame).save(buf, "PNG", compress_level=1)
            self._png_cache = (frame.signature, buf.getvalue())
            return self._png_cache[1]

    def screenshot_raw(self) -> bytes:
        """``screencap`` without ``-p``: a 16-byte header (width, height, format 1 =
        RGBA_8888, colour space 0) then the pixels, as Android 9+ writes it."""
        with self._lock:
            frame = self._frame()
            if self._raw_cache is not None and self._raw_cache[0] == frame.signature:
                return self._raw_cache[1]
            img = self._image(frame)
            data = (
                struct.pack("<IIII", self.width, self.height, 1, 0) + img.convert("RGBA").tobytes()
            )
            self._raw_cache = (frame.signature, data)
            return data

    def screenshot_jpeg(self, scale: float = 1.0, quality: int = 80) -> bytes:
        """The screen scaled by ``scale`` as JPEG (uiautomator2's ``takeScreenshot``), cached
        like the PNG: callers comparing small frames to see whether the screen moved ask for
        the same size again and again."""
        with self._lock:
            frame = self._frame()
            key = (frame.signature, float(scale), int(quality))
            if self._jpeg_cache is not None and self._jpeg_cache[0] == key:
                return self._jpeg_cache[1]
            img = self._image(frame)
            if scale and float(scale) != 1:
                size = (max(1, int(img.width * scale)), max(1, int(img.height * scale)))
                factor = round(1 / float(scale))
                if float(scale) < 1 and abs(factor * float(scale) - 1) < 1e-9:
                    img = img.reduce(
                        factor
                    )  # box-averaging by a whole factor: several times faster
                img = img if img.size == size else img.resize(size)
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=max(1, min(100, int(quality))))
            self._jpeg_cache = (key, buf.getvalue())
            return self._jpeg_cache[1]

    def hierarchy_xml(self) -> str:
        with self._lock:
            return self._frame().xml

    def frame_pending(self) -> bool:
        """Whether the screen will draw another frame by itself (an animation is running)."""
        with self._lock:
            until = self._frame().screen.frames_until
        return until is not None and time.time() < until

    def wait_idle(self, timeout: float) -> bool:
        """Block until no frame is pending (True) or ``timeout`` seconds pass (False).

        Checked once per ``IDLE_POLL`` at most, and only while an animation runs: a still
        screen answers at once.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            with self._lock:
                until = self._frame().screen.frames_until
            now = time.time()
            if until is None or now >= until:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(remaining, until - now, IDLE_POLL))

    # -- Ui protocol: input -----------------------------------------------------------
    def _hit(self, frame: Frame, x: int, y: int) -> View | None:
        hit: View | None = None
        for view, (x1, y1, x2, y2) in frame.touchable:
            if (
                x1 <= x < x2
                and y1 <= y < y2
                and (view.clickable or view.long_clickable or isinstance(view, Dialog))
            ):
                hit = view
        return hit

    def _run(self, action: Any) -> None:
        """Run an app's handler; one that fails stops its app, like a crash on a phone."""
        pkg = self.top["pkg"]
        batch = getattr(self.ctx.providers, "batch", None)
        try:
            if batch is None:
                action()
            else:
                with batch():  # the app's writes reach the sync once, after the handler
                    action()
        except Exception:
            self._crash(pkg, "handling input")

    def _crash(self, package: str, doing: str) -> None:
        log.exception("app %s crashed while %s; back to the home screen", package, doing)
        self._syslog(
            "E",
            "AndroidRuntime",
            f"FATAL EXCEPTION: main\nProcess: {package}\n"
            + "".join(traceback.format_exc(limit=-3)).rstrip(),
        )
        self._syslog("I", "ActivityManager", f"Process {package} has died (crash while {doing})")
        self.recents.pop(package, None)
        self.stack = [e for e in self.stack if e["pkg"] != package] or [
            self.apps[LAUNCHER].entry("home")
        ]

    def tap(self, x: int, y: int) -> None:
        with self._lock:
            view = self._hit(self._frame(), int(x), int(y))
            if view is not None and view.on_click is not None and view.enabled:
                self._run(view.on_click)
                if isinstance(view, Field) and self.top.get("focus") == view.rid:
                    self.top["caret"] = view.caret_at(int(x), int(y), self.m)
            self._changed()

    def long_press(self, x: int, y: int, duration_ms: int = 1000) -> None:
        with self._lock:
            view = self._hit(self._frame(), int(x), int(y))
            if view is not None and view.enabled:
                # Without a long-click handler Android performs the click on release.
                action = view.on_long_click or view.on_click
                if action is not None:
                    self._run(action)
            self._changed()

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        """Scroll the list under the finger; a short, fast swipe flings further."""
        with self._lock:
            slop = self.m.dp(8)
            if abs(x2 - x1) <= slop and abs(y2 - y1) <= slop:
                if duration_ms >= 500:
                    self.long_press(x1, y1, duration_ms)
                else:
                    self.tap(x1, y1)
                return
            if y2 - y1 > self.m.dp(100) and y1 < self.status_h + self.m.dp(8):
                self.shade_open = True  # pulled down from the status bar
                self._changed()
                return
            if self.shade_open:
                if y1 - y2 > self.m.dp(100):
                    self.close_shade()
                return
            frame = self._frame()
            sx1, sy1, sx2, sy2 = frame.scroll.bounds
            if (
                frame.screen.on_refresh is not None
                and frame.screen.dialog is None
                and frame.scroll.offset == 0
                and y2 - y1 > self.m.dp(100)
                and sx1 <= x1 < sx2
                and sy1 <= y1 < sy2
            ):
                self._run(frame.screen.on_refresh)  # pull to refresh, at the top of a list
                self._changed()
                return
            if frame.screen.dialog is not None or not frame.scroll.scrollable:
                return  # a dialog is modal; a list that fits does not move
            if not (sx1 <= x1 < sx2 and sy1 <= y1 < sy2):
                return
            delta = y1 - y2
            if duration_ms < 250 and abs(delta) > self.m.dp(100):
                delta *= 3  # fling: the list keeps moving after the finger lifts
            offset = max(0, min(frame.scroll.offset + delta, frame.scroll.max_offset))
            self.top["scroll"] = offset
            self._changed()

    def text(self, text: str) -> None:
        """Type into the focused field; a newline in a one-line field is the IME action."""
        with self._lock:
            field = self._focused_field(self._frame())
            if field is None:
                return
            parts = [text] if field.multiline else text.split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._enter(field)
                    field = self._focused_field(self._frame())
                    if field is None:
                        break
                self._insert(part)
            self._changed()

    def _insert(self, chunk: str) -> None:
        entry = self.top
        fid = entry.get("focus")
        if not fid or not chunk:
            return
        form = entry.setdefault("form", {})
        value = str(form.get(fid, ""))
        caret = max(0, min(int(entry.get("caret") or 0), len(value)))
        form[fid] = value[:caret] + chunk + value[caret:]
        entry["caret"] = caret + len(chunk)

    def _focused_field(self, frame: Frame) -> Field | None:
        fid = frame.entry.get("focus")
        if not fid:
            return None
        for win in frame.windows:
            for v in walk(win.root):
                if isinstance(v, Field) and v.rid == fid:
                    return v
        return None

    def _fields(self, frame: Frame) -> list[Field]:
        root = frame.windows[0].root
        return [v for v in walk(root) if isinstance(v, Field)]

    def focus_field(self, entry: Entry, fid: str) -> None:
        """Give a field focus with the caret at its end (what a tap on it does)."""
        entry["focus"] = fid
        entry["caret"] = len(str(entry.get("form", {}).get(fid, "")))

    def _move_focus(self, frame: Frame, step: int) -> None:
        fields = self._fields(frame)
        if not fields:
            return
        ids = [f.rid for f in fields]
        cur = frame.entry.get("focus")
        i = ids.index(cur) + step if cur in ids else 0
        if 0 <= i < len(ids):
            self.focus_field(frame.entry, ids[i])

    def _enter(self, field: Field) -> None:
        if field.multiline:
            self._insert("\n")
        elif field.on_submit is not None:
            self._run(field.on_submit)
        else:
            self._move_focus(self._frame(), 1)

    def keyevent(self, code: int) -> None:
        with self._lock:
            self._key(int(code))
            self._changed()

    def _key(self, code: int) -> None:
        entry = self.top
        if self.shade_open and code in (KEY_HOME, KEY_BACK, KEY_ESCAPE, KEY_APP_SWITCH):
            self.shade_open = False
            if code in (KEY_BACK, KEY_ESCAPE):
                return
        if code == KEY_HOME:
            self.home()
        elif code in (KEY_BACK, KEY_ESCAPE):
            self.back()
        elif code == KEY_APP_SWITCH:
            if entry["screen"] != "recents":
                self._stash()
                self.stack = [
                    self.apps[LAUNCHER].entry("home"),
                    self.apps[LAUNCHER].entry("recents"),
                ]
        elif code in (KEY_PAGE_DOWN, KEY_PAGE_UP):
            frame = self._frame()
            _x1, y1, _x2, y2 = frame.scroll.bounds
            step = (y2 - y1) * 4 // 5 * (1 if code == KEY_PAGE_DOWN else -1)
            entry["scroll"] = max(0, min(frame.scroll.offset + step, frame.scroll.max_offset))
        elif not entry.get("focus"):
            if code in (KEY_TAB, KEY_DPAD_DOWN):
                self._move_focus(self._frame(), 1)
        else:
            self._edit_key(code, entry)

    def _edit_key(self, code: int, entry: Entry) -> None:
        fid = entry["focus"]
        value = str(entry.setdefault("form", {}).get(fid, ""))
        caret = max(0, min(int(entry.get("caret") or 0), len(value)))
        if code == KEY_DEL:
            if caret:
                entry["form"][fid] = value[: caret - 1] + value[caret:]
                entry["caret"] = caret - 1
        elif code == KEY_FORWARD_DEL:
            entry["form"][fid] = value[:caret] + value[caret + 1 :]
        elif code == KEY_DPAD_LEFT:
            entry["caret"] = max(0, caret - 1)
        elif code == KEY_DPAD_RIGHT:
            entry["caret"] = min(len(value), caret + 1)
        elif code == KEY_MOVE_HOME:
            entry["caret"] = value.rfind("\n", 0, caret) + 1
        elif code == KEY_MOVE_END:
            nl = value.find("\n", caret)
            entry["caret"] = len(value) if nl < 0 else nl
        elif code in (KEY_ENTER, KEY_DPAD_CENTER):
            field = self._focused_field(self._frame())
            if field is not None:
                self._enter(field)
        elif code in (KEY_TAB, KEY_DPAD_DOWN):
            self._move_focus(self._frame(), 1)
        elif code == KEY_DPAD_UP:
            self._move_focus(self._frame(), -1)
        elif code == KEY_SPACE:
            self._insert(" ")
        elif code in KEY_CHARS:
            self._insert(KEY_CHARS[code])

    # -- navigation -----------------------------------------------------------------
    def push(self, app: App, screen: str, **args: Any) -> Entry:
        entry = app.entry(screen, **args)
        self.stack.append(entry)
        return entry

    def replace(self, app: App, screen: str, **args: Any) -> Entry:
        self.stack.pop()
        return self.push(app, screen, **args)

    def back(self) -> None:
        entry = self.top
        if entry.get("dialog"):
            entry["dialog"] = None
            return
        if len(self.stack) <= 1:
            return
        self.stack.pop()
        if self.top["pkg"] != entry["pkg"] and entry["pkg"] != LAUNCHER:
            self.recents.pop(entry["pkg"], None)
            self.recents[entry["pkg"]] = [self.apps[entry["pkg"]].entry()]
        try:
            self.apps[self.top["pkg"]].on_resume(self.top)
        except Exception:
            log.exception("%s: resuming failed", self.top["pkg"])

    def home(self) -> None:
        self._stash()
        self.stack = [self.apps[LAUNCHER].entry("home")]

    def _stash(self) -> None:
        """Remember the foreground app's stack for the recents screen and relaunch."""
        app_stack = [e for e in self.stack if e["pkg"] != LAUNCHER]
        if app_stack:
            pkg = app_stack[0]["pkg"]
            self.recents.pop(pkg, None)
            self.recents[pkg] = app_stack

    def open_shade(self) -> None:
        """Pull down the notification shade (what a swipe down from the status bar does)."""
        with self._lock:
            self.shade_open = True
            self._changed()

    def close_shade(self) -> None:
        with self._lock:
            self.shade_open = False
            del self.dismissed[:-500]  # keys of long-gone rows need not pile up
            self._changed()

    def start(self, package: str, activity: str | None = None) -> bool:
        with self._lock:
            app = self.apps.get(package)
            if app is None:
                return False
            self.shade_open = False
            screen = app.main_screen
            if activity:
                found = app.screen_for(activity)
                if found is None:
                    return False
                screen = found
            if package == LAUNCHER:
                self.home()
            else:
                self._stash()
                self._syslog(
                    "I",
                    "ActivityTaskManager",
                    f"START u0 {{cmp={package}/{activity or app.activity(screen)}}}",
                )
                saved = self.recents.pop(package, None)
                app_stack = saved if saved and screen == app.main_screen else [app.entry(screen)]
                self.stack = [self.apps[LAUNCHER].entry("home"), *app_stack]
                try:
                    app.on_start(self.top)
                except Exception:
                    log.exception("%s: starting failed", package)
            self._changed()
            return True

    def force_stop(self, package: str) -> None:
        with self._lock:
            self._syslog("I", "ActivityManager", f"Force stopping {package}")
            self.recents.pop(package, None)
            if any(e["pkg"] == package for e in self.stack) and package != LAUNCHER:
                self.stack = [self.apps[LAUNCHER].entry("home")]
            self._changed()

    def focus(self) -> tuple[str, str]:
        with self._lock:
            if self.shade_open:  # the shade is a systemui window with focus, as on Android
                return chrome.SYSTEMUI, "NotificationShade"
            entry = self.top
            return entry["pkg"], self.apps[entry["pkg"]].activity(entry["screen"])

    def packages(self) -> list[tuple[str, str]]:
        return [(a.package, a.apk) for a in self.apps.values()] + SYSTEM_PACKAGES

    def replace_focused(self, text: str) -> None:
        """Replace the whole content of the focused field (uiautomator's ``setText``)."""
        with self._lock:
            entry = self.top
            fid = entry.get("focus")
            if fid:
                entry.setdefault("form", {})[fid] = text
                entry["caret"] = len(text)
            self._changed()

    # -- clipboard ----------------------------------------------------------------------
    def paste(self) -> None:
        """Paste the phone's clipboard into the focused field."""
        with self._lock:
            self._insert(self.ctx.clipboard)
            self._changed()

    # -- state --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            state = {
                "version": STATE_VERSION,
                "stack": self.stack,
                "recents": self.recents,
                "shade": self.shade_open,
                "dismissed": self.dismissed,
            }
            return json.loads(json.dumps(state))

    def restore(self, state: Mapping[str, Any]) -> None:
        """Bring back a ``state()``; entries for unknown apps or screens are dropped."""
        with self._lock:
            stack = self._entries(state.get("stack"))
            if not stack or stack[0]["pkg"] != LAUNCHER:
                stack.insert(0, self.apps[LAUNCHER].entry("home"))
            recents = state.get("recents")
            self.stack = stack
            self.recents = {}
            if isinstance(recents, Mapping):
                for pkg, entries in recents.items():
                    kept = self._entries(entries)
                    if kept and pkg in self.apps:
                        self.recents[pkg] = kept
            self.shade_open = state.get("shade") is True
            dismissed = state.get("dismissed")
            self.dismissed = [str(k) for k in dismissed] if isinstance(dismissed, list) else []
            self._frame_cache = self._png_cache = self._raw_cache = self._jpeg_cache = None
            self._changed()

    def _entries(self, raw: Any) -> list[Entry]:
        """Validated back-stack entries, with any missing keys filled in."""
        out: list[Entry] = []
        for e in raw if isinstance(raw, list) else []:
            if not isinstance(e, Mapping):
                continue
            app = self.apps.get(str(e.get("pkg")))
            screen = e.get("screen")
            if app is None or not hasattr(app, f"screen_{screen}"):
                continue
            entry = app.entry(str(screen))
            entry.update(e)  # extra keys (an app's own, like "saved" or "error") are kept
            for key, kind in (("args", dict), ("form", dict)):
                if not isinstance(entry.get(key), kind):
                    entry[key] = kind()
            out.append(entry)
        return out

    def _changed(self) -> None:
        """Log a change of the focused activity; persist app state (atomically) when it
        differs from what is on disk."""
        focus = self.focus()
        if focus != self._last_focus:
            self._last_focus = focus
            self._syslog("I", "ActivityTaskManager", f"Displayed {focus[0]}/{focus[1]}")
        if self._state_path is None:
            return
        text = json.dumps(self.state(), ensure_ascii=False, sort_keys=True)
        if text == self._saved:
            return
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._state_path.parent, prefix=".ui-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, self._state_path)
        self._saved = text


__all__ = ["LAUNCHER", "UiSystem"]
