"""A small retained-mode view toolkit: views measure, place and draw themselves.

A screen is a tree of views built from app state. Layout assigns every view
its ``bounds`` in display pixels; the same bounds are drawn and exported to
the ``uiautomator dump`` hierarchy, so what a client reads is what it sees.
Sizes are given in dp/sp and scaled by ``density / 160`` like Android. The
widgets (text, buttons, fields, rows ...) are in ``widgets.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image

from emulator.sim.ui.render import WHITE, Box, Canvas, Color

if TYPE_CHECKING:
    from emulator.sim.ui.widgets import Button, Dialog, Toolbar

Action = Callable[[], None]


@dataclass(frozen=True)
class Metrics:
    density: int = 420

    def dp(self, value: float) -> int:
        return round(value * self.density / 160)


@dataclass(eq=False)
class View:
    """One node: what it says, what it does when touched, where it is."""

    cls: str = "android.view.View"
    rid: str = ""
    text: str = ""
    desc: str = ""
    on_click: Action | None = None
    on_long_click: Action | None = None
    focusable: bool = False
    focused: bool = False
    scrollable: bool = False
    checkable: bool = False
    checked: bool = False
    selected: bool = False
    password: bool = False
    enabled: bool = True
    children: list[View] = field(default_factory=list)
    bounds: Box = (0, 0, 0, 0)

    @property
    def clickable(self) -> bool:
        return self.on_click is not None

    @property
    def long_clickable(self) -> bool:
        return self.on_long_click is not None

    def look(self) -> tuple[object, ...]:
        """Every plain attribute that can change how the view is drawn (for the frame cache).

        Handlers, child lists and nested views are left out: they are identities, not looks.
        """
        return (
            type(self).__name__,
            *(
                (k, v)
                for k, v in vars(self).items()
                if v is None or isinstance(v, (str, int, float, bool, tuple))
            ),
        )

    def measure(self, width: int, m: Metrics) -> int:
        """Height in pixels this view wants at ``width``."""
        return sum(c.measure(width, m) for c in self.children)

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        self.bounds = (x, y, x + width, y + height)
        cy = y
        for child in self.children:
            h = child.measure(width, m)
            child.place(x, cy, width, h, m)
            cy += h

    def draw(self, c: Canvas, m: Metrics) -> None:
        for child in self.children:
            child.draw(c, m)


def Column(children: list[View], rid: str = "") -> View:
    return View(cls="android.widget.LinearLayout", rid=rid, children=children)


@dataclass(eq=False)
class Spacer(View):
    height_dp: float = 16

    def measure(self, width: int, m: Metrics) -> int:
        return m.dp(self.height_dp)


@dataclass(eq=False)
class Scroll(View):
    """A vertically scrolling container; ``offset`` pixels of content are scrolled away."""

    cls: str = "android.widget.ScrollView"
    rid: str = "scroll"
    offset: int = 0
    content_height: int = 0
    bottom_pad: int = 0
    background: Color = WHITE

    def place(self, x: int, y: int, width: int, height: int, m: Metrics) -> None:
        self.bounds = (x, y, x + width, y + height)
        total = sum(c.measure(width, m) for c in self.children) + self.bottom_pad
        self.content_height = total
        self.offset = max(0, min(self.offset, self.max_offset))
        self.scrollable = total > height
        cy = y - self.offset
        for child in self.children:
            h = child.measure(width, m)
            child.place(x, cy, width, h, m)
            cy += h

    @property
    def max_offset(self) -> int:
        _x1, y1, _x2, y2 = self.bounds
        return max(0, self.content_height - (y2 - y1))

    def draw(self, c: Canvas, m: Metrics) -> None:
        """Draw children into a viewport-sized layer so nothing spills outside."""
        x1, y1, x2, y2 = self.bounds
        layer = Canvas(Image.new("RGB", (x2 - x1, y2 - y1), self.background), x1, y1)
        for child in self.children:
            if child.bounds[3] > y1 and child.bounds[1] < y2:
                child.draw(layer, m)
        c.image.paste(layer.image, (x1 - c.ox, y1 - c.oy))
        if self.scrollable:
            view_h = y2 - y1
            bar_h = max(m.dp(32), view_h * view_h // max(1, self.content_height))
            top = y1 + (view_h - bar_h) * self.offset // max(1, self.max_offset)
            c.rect((x2 - m.dp(4), top, x2 - m.dp(1), top + bar_h), (189, 193, 198))


@dataclass
class Screen:
    """What an app shows: app bar, scrolling body, fixed bottom, optional FAB and dialog."""

    toolbar: Toolbar | None
    body: list[View]
    bottom: list[View] = field(default_factory=list)
    fab: Button | None = None
    dialog: Dialog | None = None
    background: Color = WHITE
    stick_to_end: bool = False
    scroll_id: str = "list"
    # Wall-clock time (``time.time()``) until which the screen keeps drawing new frames (an
    # animation); ``math.inf`` for one that never ends, None when nothing moves.
    frames_until: float | None = None
    # What pulling the list down from its top does (a sync, in apps that have one).
    on_refresh: Action | None = None


def walk(view: View) -> Iterator[View]:
    """Pre-order traversal: a parent before its children (children are drawn on top)."""
    yield view
    for child in view.children:
        yield from walk(child)
