"""The notification shade: quick-settings tiles and notifications, pulled down from the status bar.

Notifications come from the phone's data, the way Android's apps post them:
each unread incoming SMS (Messages), each new missed call (call log type 3,
``new`` = 1), and each alarm that rang or calendar reminder that came due as the
clock moved (:mod:`emulator.sim.due`). Tapping an SMS opens its conversation, which marks it read;
tapping a reminder opens its event in Calendar, an alarm dismisses it and opens Clock;
"Clear all" or tapping a missed call dismisses without touching the data, as
on a phone. The tiles write the same ``Settings.Global`` rows as the Settings
app. The status bar shows an icon while there is anything to see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.sim import due
from emulator.sim.ui import render
from emulator.sim.ui.chrome import SYSTEMUI, status_height
from emulator.sim.ui.hierarchy import Window
from emulator.sim.ui.render import INK, INK_SOFT, Canvas
from emulator.sim.ui.views import Metrics, View
from emulator.sim.ui.widgets import Button, ListRow, Text, short_time

if TYPE_CHECKING:
    from emulator.sim.ui.system import UiSystem

log = logging.getLogger(__name__)

MESSAGES = "com.google.android.apps.messaging"
CALENDAR = "com.android.calendar"
CLOCK = "com.android.deskclock"
SETTINGS = "com.android.settings"
MAX_SHOWN = 12
# (Settings.Global name, tile label)
TILES = [
    ("wifi_on", "Wi-Fi"),
    ("bluetooth_on", "Bluetooth"),
    ("airplane_mode_on", "Airplane mode"),
    ("zen_mode", "Do Not Disturb"),
]


def notifications(ui: UiSystem) -> list[dict[str, Any]]:
    """Posted, undismissed notifications, newest first: ``key``, ``app``, ``title``, ``text``."""
    p = ui.ctx.providers
    out: list[dict[str, Any]] = []
    try:
        sms = p.query(
            "content://sms/inbox",
            ["_id", "address", "body", "date", "thread_id"],
            "read=0",
            sort="date DESC",
        )
        calls = p.query(
            "content://call_log/calls",
            ["_id", "number", "date"],
            "type=3 AND new=1",
            sort="date DESC",
        )
        messages = ui.apps[MESSAGES]
        names = messages.names()  # type: ignore[attr-defined]
    except Exception:  # a broken provider posts nothing rather than breaking every frame
        log.warning("notifications unavailable", exc_info=True)
        return out
    for r in sms:
        out.append(
            {
                "key": f"sms:{r['_id']}",
                "app": "Messages",
                "date": r["date"] or 0,
                "title": messages.who(r["address"] or "", names),  # type: ignore
                "text": r["body"] or "",
                "thread_id": r["thread_id"],
                "address": r["address"] or "",
            }
        )
    for r in calls:
        out.append(
            {
                "key": f"call:{r['_id']}",
                "app": "Phone",
                "date": r["date"] or 0,
                "title": "Missed call",
                "text": messages.who(r["number"] or "", names),
            }
        )  # type: ignore
    try:
        out.extend(due.posted(ui.ctx))
    except Exception:
        log.warning("alarm and reminder notifications unavailable", exc_info=True)
    dismissed = set(ui.dismissed)
    out = [n for n in out if n["key"] not in dismissed]
    out.sort(key=lambda n: -int(n["date"]))
    return out


@dataclass(eq=False)
class Tile(View):
    """A quick-settings tile: a rounded switch with its label."""

    cls: str = "android.widget.Switch"
    checkable: bool = True

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, y2 = self.bounds
        fill = (168, 199, 250) if self.checked else (227, 227, 227)
        c.rect(self.bounds, fill, radius=m.dp(20))
        size, lh = m.dp(12), render.line_height(m.dp(12))
        spans = render.wrap(self.text, size, x2 - x1 - m.dp(8))[:2]
        lines = [self.text[i:j].strip() for i, j in spans]
        top = y1 + (y2 - y1 - lh * len(lines)) // 2
        for k, line in enumerate(lines):
            w = render.measure(line, size)
            c.text(x1 + (x2 - x1 - w) // 2, top + k * lh, line, size, INK)


class Panel(View):
    def draw(self, c: Canvas, m: Metrics) -> None:
        c.rect(self.bounds, (248, 249, 250))
        super().draw(c, m)


def build(ui: UiSystem, m: Metrics, width: int, height: int, nav_h: int) -> Window:
    """The shade as the active window, laid out from below the status bar."""
    settings = ui.apps[SETTINGS]
    y = status_height(m) + m.dp(8)
    tiles: list[View] = []
    gap = m.dp(8)
    tile_w = (width - 2 * m.dp(16) - 3 * gap) // 4
    for i, (name, label) in enumerate(TILES):
        on = settings.is_on(name)  # type: ignore[attr-defined]
        t = Tile(
            text=label,
            desc=label,
            rid="quick_settings_tile",
            checked=on,
            on_click=lambda name=name: settings.toggle(name),
        )  # type: ignore[attr-defined]
        x = m.dp(16) + i * (tile_w + gap)
        t.bounds = (x, y, x + tile_w, y + m.dp(64))
        tiles.append(t)
    y += m.dp(64) + m.dp(16)
    items: list[View] = []
    posted = notifications(ui)
    header = Text(
        text="Notifications" if posted else "No notifications",
        rid="header",
        size=14,
        bold=True,
        color=INK_SOFT,
    )
    hh = header.measure(width, m)
    header.place(0, y, width, hh, m)
    items.append(header)
    y += hh
    for n in posted[:MAX_SHOWN]:
        row = ListRow(
            title=n["title"],
            subtitle=n["text"],
            meta=f"{n['app']} · " + short_time(ui.ctx.clock.now(), n["date"]),
            rid="notification",
            desc=f"{n['app']} notification: {n['title']}: {n['text']}",
            on_click=lambda n=n: _open(ui, n),
        )
        rh = row.measure(width, m)
        row.place(0, y, width, rh, m)
        items.append(row)
        y += rh
    if len(posted) > MAX_SHOWN:
        more = Text(text=f"+{len(posted) - MAX_SHOWN} more", rid="more", size=14, color=INK_SOFT)
        mh = more.measure(width, m)
        more.place(0, y, width, mh, m)
        items.append(more)
        y += mh
    if posted:
        clear = Button(
            text="Clear all", rid="clear_all", style="outlined", on_click=lambda: _clear(ui, posted)
        )
        clear.place(0, y, width, clear.measure(width, m), m)
        items.append(clear)
    panel = Panel(
        cls="android.widget.FrameLayout", rid="notification_panel", children=[*tiles, *items]
    )
    panel.bounds = (0, status_height(m), width, height - nav_h)
    return Window(SYSTEMUI, panel)


def _open(ui: UiSystem, n: dict[str, Any]) -> None:
    ui.close_shade()
    if n["key"].startswith("sms:"):
        messages = ui.apps[MESSAGES]
        ui.start(MESSAGES)
        messages.open_thread(n["thread_id"], n["address"])  # type: ignore[attr-defined]
        return
    ui.dismissed.append(n["key"])
    if n["key"].startswith("reminder:"):  # the event it reminds of, as Calendar opens it
        ui.start(CALENDAR)
        ui.push(ui.apps[CALENDAR], "event", event_id=int(n["key"].split(":")[1]))
    elif n["key"].startswith("alarm:"):  # the alarm is dismissed; Clock shows the list
        ui.start(CLOCK)


def _clear(ui: UiSystem, posted: list[dict[str, Any]]) -> None:
    ui.dismissed.extend(n["key"] for n in posted if n["key"] not in ui.dismissed)
    ui.close_shade()
