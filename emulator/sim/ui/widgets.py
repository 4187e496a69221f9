"""The widgets screens are built from: text, buttons, fields, switches, rows, icons, bars, dialogs.

Each one knows its Android class name (what ``uiautomator dump`` reports), its
height at a given width, where its parts go, and how to draw itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.sim.ui import render
from emulator.sim.ui.render import DIVIDER, INK, INK_SOFT, WHITE, Canvas, Color
from emulator.sim.ui.views import Action, Metrics, View


@dataclass(eq=False)
class Text(View):
    """A TextView; wraps to as many lines as it needs unless ``max_lines`` says otherwise."""

    cls: str = "android.widget.TextView"
    size: float = 16
    bold: bool = False
    color: Color = INK
    background: Color | None = None
    pad: float = 16
    vpad: float = 8
    max_lines: int = 0
    center: bool = False
    right: bool = False

    def _lines(self, width: int, m: Metrics) -> list[str]:
        size = m.dp(self.size)
        avail = max(1, width - 2 * m.dp(self.pad))
        if self.max_lines == 1:
            return [render.ellipsize(self.text, size, avail, self.bold)]
        lines = [self.text[a:b] for a, b in render.wrap(self.text, size, avail, self.bold)]
        if self.max_lines and len(lines) > self.max_lines:
            lines = lines[: self.max_lines]
            lines[-1] = render.ellipsize(lines[-1] + "\n", size, avail, self.bold)
        return lines

    def measure(self, width: int, m: Metrics) -> int:
        n = len(self._lines(width, m))
        return n * render.line_height(m.dp(self.size)) + 2 * m.dp(self.vpad)

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, _ = self.bounds
        if self.background:
            c.rect(self.bounds, self.background)
        size = m.dp(self.size)
        lh = render.line_height(size)
        y = y1 + m.dp(self.vpad)
        for line in self._lines(x2 - x1, m):
            x = x1 + m.dp(self.pad)
            if self.center:
                x = x1 + (x2 - x1 - render.measure(line, size, self.bold)) // 2
            elif self.right:
                x = x2 - m.dp(self.pad) - render.measure(line, size, self.bold)
            c.text(x, y, line, size, self.color, self.bold)
            y += lh


@dataclass(eq=False)
class Button(View):
    """A Button with a visible label (``filled``, ``outlined`` or ``text`` style)."""

    cls: str = "android.widget.Button"
    style: str = "filled"
    color: Color = (26, 115, 232)
    height_dp: float = 48
    margin: float = 16

    def measure(self, width: int, m: Metrics) -> int:
        return m.dp(self.height_dp) + m.dp(8)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        mg = m.dp(self.margin)
        self.bounds = (x + mg, y + m.dp(4), x + width - mg, y + height - m.dp(4))

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, y2 = self.bounds
        size = m.dp(15)
        ink = WHITE
        if self.style == "filled":
            c.rect(self.bounds, self.color if self.enabled else DIVIDER, radius=m.dp(20))
        else:
            ink = self.color
            if self.style == "outlined":
                c.rect(self.bounds, WHITE, radius=m.dp(20), outline=DIVIDER)
        label = render.ellipsize(self.text or self.desc, size, x2 - x1 - m.dp(16), True)
        tw = render.measure(label, size, True)
        c.text(
            x1 + (x2 - x1 - tw) // 2,
            y1 + (y2 - y1 - render.line_height(size)) // 2 + 2,
            label,
            size,
            ink,
            True,
        )


@dataclass(eq=False)
class ButtonRow(View):
    """Buttons side by side, sharing the width equally."""

    cls: str = "android.widget.LinearLayout"

    def measure(self, width: int, m: Metrics) -> int:
        return max((b.measure(width, m) for b in self.children), default=0)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        self.bounds = (x, y, x + width, y + height)
        n = max(1, len(self.children))
        inner = width - m.dp(8)
        for i, child in enumerate(self.children):
            cx = x + m.dp(4) + inner * i // n
            if isinstance(child, Button):
                child.margin = 4  # the row already keeps the outer margin
            child.place(cx, y, inner // n, height, m)


@dataclass(eq=False)
class Field(View):
    """An EditText. ``text`` is its content; ``caret`` is an offset into it when focused."""

    cls: str = "android.widget.EditText"
    hint: str = ""
    label: str = ""
    multiline: bool = False
    min_lines: int = 1
    caret: int = 0
    on_submit: Action | None = None
    focusable: bool = True

    def _content_width(self, width: int, m: Metrics) -> int:
        return width - 2 * m.dp(16) - 2 * m.dp(12)

    def _lines(self, width: int, m: Metrics) -> list[tuple[int, int]]:
        shown = self.shown
        if not self.multiline:
            return [(0, len(shown))]
        return render.wrap(shown, m.dp(16), self._content_width(width, m))

    @property
    def shown(self) -> str:
        return "•" * len(self.text) if self.password else self.text

    def measure(self, width: int, m: Metrics) -> int:
        n = max(self.min_lines, len(self._lines(width, m)))
        return n * render.line_height(m.dp(16)) + m.dp(32) + m.dp(16)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        # Room above the box for the floating label.
        mg = m.dp(16)
        self.bounds = (x + mg, y + m.dp(12), x + width - mg, y + height - m.dp(4))

    def caret_at(self, x: int, y: int, m: Metrics) -> int:
        """The offset a tap at ``(x, y)`` puts the caret at: the nearest character boundary."""
        x1, y1, x2, _y2 = self.bounds
        size, pad = m.dp(16), m.dp(12)
        tx, ty = x1 + pad, y1 + m.dp(16)
        shown = self.shown
        lines = render.wrap(shown, size, x2 - x1 - 2 * pad) if self.multiline else [(0, len(shown))]
        row = max(0, (y - ty) // render.line_height(size))
        if row >= len(lines):
            return len(shown)
        a, b = lines[row]
        return min(range(a, b + 1), key=lambda k: abs(tx + render.measure(shown[a:k], size) - x))

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, _y2 = self.bounds
        accent = (26, 115, 232)
        c.rect(
            self.bounds,
            (245, 246, 247),
            radius=m.dp(6),
            outline=accent if self.focused else (189, 193, 198),
        )
        size = m.dp(16)
        lh = render.line_height(size)
        pad = m.dp(12)
        tx, ty = x1 + pad, y1 + m.dp(16)
        if self.label:
            c.rect(
                (
                    tx - m.dp(4),
                    y1 - m.dp(8),
                    tx + render.measure(self.label, m.dp(12)) + m.dp(4),
                    y1 + m.dp(8),
                ),
                WHITE,
            )
            c.text(tx, y1 - m.dp(8), self.label, m.dp(12), accent if self.focused else INK_SOFT)
        shown = self.shown
        width = x2 - x1
        if not shown:
            c.text(
                tx, ty, render.ellipsize(self.hint, size, width - 2 * pad), size, (154, 160, 166)
            )
        avail = width - 2 * pad
        if (
            not self.multiline
            and self.focused
            and render.measure(shown[: self.caret], size) > avail
        ):
            # A one-line field scrolls sideways to keep the caret in view.
            lo = 0
            while render.measure("…" + shown[lo : self.caret], size) > avail:
                lo += 1
            c.text(tx, ty, "…" + shown[lo : self.caret], size, INK)
            cx = tx + render.measure("…" + shown[lo : self.caret], size)
            c.rect((cx, ty, cx + 3, ty + lh), accent)
            return
        lines = render.wrap(shown, size, avail) if self.multiline else [(0, len(shown))]
        caret_drawn = False
        for i, (a, b) in enumerate(lines):
            line = shown[a:b]
            if not self.multiline:
                line = render.ellipsize(line, size, width - 2 * pad)
            c.text(tx, ty + i * lh, line, size, INK)
            if self.focused and not caret_drawn and a <= self.caret <= b:
                nxt = lines[i + 1][0] if i + 1 < len(lines) else None
                if self.caret == b and nxt == b:
                    continue  # caret belongs at the start of the next soft-wrapped line
                cx = tx + render.measure(shown[a : self.caret], size)
                c.rect((cx, ty + i * lh, cx + 3, ty + (i + 1) * lh), accent)
                caret_drawn = True
        if self.focused and not shown:
            c.rect((tx, ty, tx + 3, ty + lh), accent)


@dataclass(eq=False)
class Switch(View):
    """The track-and-thumb switch widget inside a toggle row."""

    cls: str = "android.widget.Switch"
    checkable: bool = True
    rid: str = "android:id/switch_widget"

    def measure(self, width: int, m: Metrics) -> int:
        return m.dp(32)

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, y2 = self.bounds
        on = (26, 115, 232)
        track = (138, 180, 248) if self.checked else (189, 193, 198)
        c.rect((x1, y1 + m.dp(6), x2, y2 - m.dp(6)), track, radius=m.dp(10))
        d = y2 - y1
        tx = x2 - d if self.checked else x1
        c.ellipse(
            (tx, y1, tx + d, y2),
            on if self.checked else (241, 243, 244),
            None if self.checked else (154, 160, 166),
        )


def short_time(now: datetime, ms: Any) -> str:
    """A row's time as Android lists show it: ``14:05`` today, ``Mar 3`` before; ``""`` when
    ``ms`` (epoch milliseconds) is not a time."""
    try:
        t = datetime.fromtimestamp(int(ms) / 1000, now.tzinfo)
    except (TypeError, ValueError, OverflowError):
        return ""
    return t.strftime("%H:%M") if t.date() == now.date() else t.strftime("%b %-d")


def _initial_disc(c: Canvas, x: int, y: int, d: int, color: Color, initial: str, size: int) -> None:
    """A ``d``-wide disc at (x, y) with one bold white letter centred on it (avatars, icons)."""
    c.ellipse((x, y, x + d, y + d), color)
    w = render.measure(initial, size, True)
    c.text(
        x + (d - w) // 2, y + (d - render.line_height(size)) // 2 + 2, initial, size, WHITE, True
    )


@dataclass(eq=False)
class ProgressBar(View):
    """A horizontal ProgressBar; ``progress`` is 0-1000 of its track filled (drawn, not dumped,
    as on Android: the hierarchy shows the bar, its fill changes only pixels)."""

    cls: str = "android.widget.ProgressBar"
    progress: int = 0
    color: Color = (0, 137, 123)

    def measure(self, width: int, m: Metrics) -> int:
        return m.dp(24)

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, y2 = self.bounds
        pad, h = m.dp(16), m.dp(6)
        top = (y1 + y2 - h) // 2
        c.rect((x1 + pad, top, x2 - pad, top + h), DIVIDER)
        fill = (x2 - x1 - 2 * pad) * max(0, min(1000, self.progress)) // 1000
        if fill:
            c.rect((x1 + pad, top, x1 + pad + fill, top + h), self.color)


@dataclass(eq=False)
class ListRow(View):
    """A list item: optional avatar, title, subtitle, optional trailing switch or meta text."""

    cls: str = "android.widget.LinearLayout"
    title: str = ""
    subtitle: str = ""
    meta: str = ""
    avatar: Color | None = None
    switch: Switch | None = None
    bold: bool = False
    subtitle_lines: int = 1

    def __post_init__(self) -> None:
        self.children = [
            Text(
                text=self.title, rid="android:id/title", max_lines=1, bold=self.bold, vpad=0, pad=0
            )
        ]
        if self.subtitle:
            self.children.append(
                Text(
                    text=self.subtitle,
                    rid="android:id/summary",
                    size=14,
                    color=INK_SOFT,
                    max_lines=self.subtitle_lines,
                    vpad=0,
                    pad=0,
                )
            )
        if self.meta:
            self.children.append(
                Text(
                    text=self.meta, rid="meta", size=12, color=INK_SOFT, max_lines=1, vpad=0, pad=0
                )
            )
        if self.switch is not None:
            self.switch.checked = self.checked
            self.children.append(self.switch)

    def _left(self, m: Metrics) -> int:
        return m.dp(72) if self.avatar else m.dp(16)

    def measure(self, width: int, m: Metrics) -> int:
        base = 72 if self.subtitle else 56
        if self.subtitle and self.subtitle_lines > 1:
            sub = self.children[1]
            sub_w = width - self._left(m) - m.dp(16) - (m.dp(72) if self.switch else 0)
            return max(m.dp(base), m.dp(32) + m.dp(24) + sub.measure(sub_w, m))
        return m.dp(base)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        self.bounds = (x, y, x + width, y + height)
        left = x + self._left(m)
        right = x + width - m.dp(16)
        meta_w = 0
        if self.switch is not None:
            self.switch.place(right - m.dp(52), y + (height - m.dp(32)) // 2, m.dp(52), m.dp(32), m)
            right -= m.dp(68)
        texts = [c for c in self.children if isinstance(c, Text)]
        title = texts[0]
        if self.meta:
            meta = texts[-1]
            meta_w = render.measure(meta.text, m.dp(12)) + m.dp(8)
            meta.place(right - meta_w, y + m.dp(12), meta_w, m.dp(20), m)
        th = title.measure(right - left, m)
        if self.subtitle:
            sub = texts[1]
            sh = sub.measure(right - left, m)
            top = y + (height - th - sh) // 2
            title.place(left, top, right - left - meta_w, th, m)
            sub.place(left, top + th, right - left, sh, m)
        else:
            title.place(left, y + (height - th) // 2, right - left - meta_w, th, m)

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, y2 = self.bounds
        if self.selected:
            c.rect(self.bounds, (232, 240, 254))
        if self.avatar:
            d = m.dp(40)
            ax, ay = x1 + m.dp(16), y1 + (y2 - y1 - d) // 2
            initial = (self.title.strip()[:1] or "?").upper()
            _initial_disc(c, ax, ay, d, self.avatar, initial, m.dp(18))
        c.rect((x1 + self._left(m), y2 - 1, x2, y2), DIVIDER)
        super().draw(c, m)


@dataclass(eq=False)
class Icon(View):
    """A launcher icon: a coloured disc with the app's initial and its label below."""

    cls: str = "android.widget.TextView"
    color: Color = (26, 115, 232)

    def measure(self, width: int, m: Metrics) -> int:
        return m.dp(100)

    def draw(self, c: Canvas, m: Metrics) -> None:
        x1, y1, x2, _y2 = self.bounds
        d = m.dp(56)
        ix = x1 + (x2 - x1 - d) // 2
        iy = y1 + m.dp(8)
        _initial_disc(c, ix, iy, d, self.color, self.text[:1].upper(), m.dp(24))
        lsize = m.dp(13)
        label = render.ellipsize(self.text, lsize, x2 - x1 - m.dp(4))
        w = render.measure(label, lsize)
        c.text(x1 + (x2 - x1 - w) // 2, iy + d + m.dp(6), label, lsize, INK)


@dataclass(eq=False)
class Grid(View):
    """Icons in rows of ``columns``."""

    cls: str = "android.widget.GridView"
    columns: int = 4

    def measure(self, width: int, m: Metrics) -> int:
        rows = (len(self.children) + self.columns - 1) // self.columns
        return rows * m.dp(100) + m.dp(16)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        self.bounds = (x, y, x + width, y + height)
        cell = (width - m.dp(16)) // self.columns
        for i, child in enumerate(self.children):
            r, col = divmod(i, self.columns)
            child.place(x + m.dp(8) + col * cell, y + m.dp(8) + r * m.dp(100), cell, m.dp(100), m)


@dataclass(eq=False)
class Bubble(Text):
    """A chat bubble: outgoing ones sit on the right in the accent colour."""

    outgoing: bool = False
    pad: float = 14

    def _width(self, width: int, m: Metrics) -> int:
        size = m.dp(self.size)
        longest = max((render.measure(line, size) for line in self.text.split("\n")), default=0)
        return min(int(width * 0.78), longest + 2 * m.dp(self.pad) + 2)

    def measure(self, width: int, m: Metrics) -> int:
        return super().measure(self._width(width, m), m) + m.dp(8)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        w = self._width(width, m)
        left = x + width - w - m.dp(12) if self.outgoing else x + m.dp(12)
        self.bounds = (left, y + m.dp(4), left + w, y + height - m.dp(4))

    def __post_init__(self) -> None:
        self.color = WHITE if self.outgoing else INK
        self.background = None

    def draw(self, c: Canvas, m: Metrics) -> None:
        c.rect(self.bounds, (26, 115, 232) if self.outgoing else (241, 243, 244), radius=m.dp(16))
        super().draw(c, m)


@dataclass(eq=False)
class Toolbar(View):
    """The app bar: optional up button, title, and text action buttons on the right."""

    cls: str = "android.view.ViewGroup"
    rid: str = "toolbar"
    title: str = ""
    color: Color = (26, 115, 232)
    on_up: Action | None = None
    actions: list[tuple[str, Action]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.children = []
        if self.on_up is not None:
            self.children.append(
                View(cls="android.widget.ImageButton", desc="Navigate up", on_click=self.on_up)
            )
        self.children.append(
            Text(
                text=self.title,
                rid="toolbar_title",
                size=20,
                bold=True,
                color=WHITE,
                max_lines=1,
                vpad=0,
                pad=0,
            )
        )
        for label, act in self.actions:
            self.children.append(
                View(cls="android.widget.Button", text=label, desc=label, on_click=act)
            )

    def measure(self, width: int, m: Metrics) -> int:
        return m.dp(64)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        self.bounds = (x, y, x + width, y + height)
        left = x + m.dp(16)
        right = x + width - m.dp(4)
        size = m.dp(15)
        for child in reversed(self.children):
            if child.cls == "android.widget.Button":
                w = render.measure(child.text, size, True) + m.dp(24)
                child.place(right - w, y + m.dp(8), w, height - m.dp(16), m)
                right -= w
        for child in self.children:
            if child.cls == "android.widget.ImageButton":
                child.place(x + m.dp(4), y + m.dp(8), m.dp(48), m.dp(48), m)
                left = x + m.dp(64)
            elif isinstance(child, Text):
                th = child.measure(right - left, m)
                child.place(left, y + (height - th) // 2, right - left - m.dp(8), th, m)

    def draw(self, c: Canvas, m: Metrics) -> None:
        c.rect(self.bounds, self.color)
        size = m.dp(15)
        for child in self.children:
            x1, y1, x2, y2 = child.bounds
            if child.cls == "android.widget.ImageButton":
                cx, cy, s = (x1 + x2) // 2, (y1 + y2) // 2, m.dp(8)
                c.line([(cx + s, cy), (cx - s, cy)], WHITE, m.dp(2))
                c.line([(cx - s + 1, cy), (cx, cy - s)], WHITE, m.dp(2))
                c.line([(cx - s + 1, cy), (cx, cy + s)], WHITE, m.dp(2))
            elif child.cls == "android.widget.Button":
                w = render.measure(child.text, size, True)
                c.text(
                    x1 + (x2 - x1 - w) // 2,
                    y1 + (y2 - y1 - render.line_height(size)) // 2,
                    child.text,
                    size,
                    WHITE,
                    True,
                )
            else:
                child.draw(c, m)


@dataclass(eq=False)
class Dialog(View):
    """A modal card over a scrim; taps outside it cancel it."""

    cls: str = "android.widget.FrameLayout"
    rid: str = "android:id/content"
    title: str = ""
    on_cancel: Action | None = None

    def __post_init__(self) -> None:
        self.children.insert(
            0, Text(text=self.title, rid="android:id/alertTitle", size=20, bold=True, vpad=12)
        )

    def measure(self, width: int, m: Metrics) -> int:
        inner = width - 2 * m.dp(24)
        return sum(c.measure(inner, m) for c in self.children) + m.dp(24)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        inner = width - 2 * m.dp(24)
        h = self.measure(width, m)
        top = y + (height - h) // 2
        self.bounds = (x + m.dp(24), top, x + m.dp(24) + inner, top + h)
        cy = top + m.dp(12)
        for child in self.children:
            ch = child.measure(inner, m)
            child.place(x + m.dp(24), cy, inner, ch, m)
            cy += ch

    def draw(self, c: Canvas, m: Metrics) -> None:
        c.rect(self.bounds, WHITE, radius=m.dp(24))
        super().draw(c, m)
