"""The system UI around every app: status bar, three-button navigation bar, dialog scrim.

Both bars are windows of ``com.android.systemui`` as on a phone: the status
bar shows the phone's clock and the Wi-Fi/airplane state from
``Settings.Global``; the navigation bar's Back, Home and Overview buttons send
the same key codes as ``input keyevent``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import ImageEnhance

from emulator.sim.ui.hierarchy import Window
from emulator.sim.ui.keys import KEY_APP_SWITCH, KEY_BACK, KEY_HOME
from emulator.sim.ui.render import INK, WHITE, Canvas
from emulator.sim.ui.views import Metrics, View
from emulator.sim.ui.widgets import Text

SYSTEMUI = "com.android.systemui"


def status_height(m: Metrics) -> int:
    return m.dp(24)


def nav_height(m: Metrics) -> int:
    return m.dp(48)


def global_setting(providers: Any, name: str, default: str) -> str:
    """A ``Settings.Global`` value; the default if the provider cannot answer."""
    try:
        rows = providers.query("content://settings/global", ["value"], "name=?", [name])
    except Exception:  # the status bar must draw even if a provider is broken
        return default
    if not rows or rows[0].get("value") is None:
        return default
    return str(rows[0]["value"])


class StatusBar(View):
    """Clock on the left; notification, Wi-Fi, airplane and battery icons as ImageViews
    (content-desc like Android's), so they are in the dump and the frame signature."""

    def draw(self, c: Canvas, m: Metrics) -> None:
        c.rect(self.bounds, (241, 243, 244))
        for icon in self.children:
            x1, y1, x2, y2 = icon.bounds
            if icon.rid == "clock":
                icon.draw(c, m)
            elif icon.rid == "notification_icon":
                c.rect((x1, y1 + m.dp(4), x2, y2 - m.dp(4)), INK, radius=m.dp(2))
            elif icon.rid == "airplane":
                c.text(x1, y1, "✈", m.dp(12), INK)
            elif icon.rid == "wifi_signal":
                cx = (x1 + x2) // 2
                c.polygon([(cx, y2), (x1, y1), (x2, y1)], INK)
            elif icon.rid == "battery":
                c.rect((x1, y1, x2 - m.dp(2), y2), INK)
                c.rect((x2 - m.dp(2), y1 + m.dp(3), x2, y2 - m.dp(3)), INK)


class NavBar(View):
    def draw(self, c: Canvas, m: Metrics) -> None:
        c.rect(self.bounds, (32, 33, 36))
        for b in self.children:
            x1, y1, x2, y2 = b.bounds
            cx, cy, s = (x1 + x2) // 2, (y1 + y2) // 2, m.dp(8)
            if b.rid == "back":
                c.polygon([(cx + s, cy - s), (cx + s, cy + s), (cx - s, cy)], WHITE)
            elif b.rid == "home":
                c.ellipse((cx - s, cy - s, cx + s, cy + s), WHITE)
            else:
                c.rect((cx - s, cy - s, cx + s, cy + s), WHITE)


class Scrim(View):
    """Dims what is behind a dialog; a tap on it (outside the card) cancels the dialog."""

    def draw(self, c: Canvas, m: Metrics) -> None:
        c.image.paste(ImageEnhance.Brightness(c.image).enhance(0.55))
        super().draw(c, m)


def status_bar(ctx: Any, m: Metrics, width: int, notified: bool = False) -> Window:
    h = status_height(m)
    clock = Text(
        text=ctx.clock.now().strftime("%H:%M"),
        rid="clock",
        size=14,
        color=INK,
        vpad=0,
        pad=0,
        bold=True,
    )
    clock.place(m.dp(16), m.dp(3), m.dp(50), m.dp(18), m)
    icons: list[View] = [clock]

    def icon(rid: str, desc: str, x1: int, x2: int, top: int, bottom: int) -> None:
        v = View(cls="android.widget.ImageView", rid=rid, desc=desc)
        v.bounds = (x1, top, x2, bottom)
        icons.append(v)

    if notified:
        icon("notification_icon", "Notifications", m.dp(72), m.dp(88), m.dp(3), h - m.dp(3))
    right = width - m.dp(16)
    icon("battery", "Battery 100 percent.", right - m.dp(24), right, m.dp(7), h - m.dp(7))
    right -= m.dp(24) + m.dp(8)
    if global_setting(ctx.providers, "airplane_mode_on", "0") == "1":
        icon("airplane", "Airplane mode.", right - m.dp(14), right, m.dp(4), h - m.dp(4))
        right -= m.dp(14) + m.dp(6)
    if global_setting(ctx.providers, "wifi_on", "1") == "1":
        icon("wifi_signal", "Wi-Fi signal full.", right - m.dp(16), right, m.dp(8), h - m.dp(6))
    bar = StatusBar(cls="android.widget.FrameLayout", rid="status_bar", children=icons)
    bar.bounds = (0, 0, width, h)
    return Window(SYSTEMUI, bar)


def nav_bar(m: Metrics, width: int, height: int, press: Callable[[int], None]) -> Window:
    """Back, Home and Overview; each calls ``press`` with its key code."""
    y1, y2 = height - nav_height(m), height
    third = width // 3
    buttons = []
    keys = (
        ("back", "Back", KEY_BACK),
        ("home", "Home", KEY_HOME),
        ("recent_apps", "Overview", KEY_APP_SWITCH),
    )
    for i, (rid, desc, code) in enumerate(keys):
        b = View(
            cls="android.widget.ImageView",
            rid=rid,
            desc=desc,
            on_click=lambda code=code: press(code),
        )
        mid = i * third + third // 2
        b.bounds = (mid - m.dp(40), y1, mid + m.dp(40), y2)
        buttons.append(b)
    bar = NavBar(cls="android.widget.FrameLayout", rid="navigation_bar_frame", children=buttons)
    bar.bounds = (0, y1, width, y2)
    return Window(SYSTEMUI, bar)
