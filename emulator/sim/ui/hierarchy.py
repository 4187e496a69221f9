"""Views to ``uiautomator dump`` XML, with the attributes and escaping Android uses.

Bounds are each view's *visible* rectangle (its bounds clipped by its parent's
visible rectangle, as ``AccessibilityNodeInfo.getBoundsInScreen`` reports for
scrolled content); views scrolled fully out of sight are left out, as on a
phone. The same clipping feeds hit-testing, so a node's bounds are where a tap
reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from emulator.sim.ui.render import Box
from emulator.sim.ui.views import View
from emulator.sim.ui.widgets import Field

XML_HEADER = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"

_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape(value: str) -> str:
    """Attribute escaping; control characters XML 1.0 cannot carry become U+FFFD."""
    return _NOT_XML.sub("\ufffd", value.translate(_ESCAPES))


def intersect(a: Box, b: Box) -> Box | None:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2, y2)


@dataclass
class Window:
    """A top-level window: its package and root view, in z-order (later is on top)."""

    package: str
    root: View


def visible(view: View, clip: Box) -> Iterator[tuple[View, Box, int]]:
    """``(view, visible_box, depth)`` in pre-order, skipping what is out of sight."""
    box = intersect(view.bounds, clip)
    if box is None:
        return
    yield view, box, 0
    for child in view.children:
        for v, b, d in visible(child, box):
            yield v, b, d + 1


def _resource_id(view: View, package: str) -> str:
    if not view.rid or ":" in view.rid:
        return view.rid
    return f"{package}:id/{view.rid}"


def _b(flag: bool) -> str:
    return "true" if flag else "false"


def _node(view: View, index: int, package: str, clip: Box, out: list[str]) -> None:
    box = intersect(view.bounds, clip)
    if box is None:
        return
    x1, y1, x2, y2 = box
    text = "•" * len(view.text) if view.password else view.text
    if not text and isinstance(view, Field):
        # Android reports an empty EditText's hint as its text (getTextForAccessibility).
        text = view.hint
    rid = escape(_resource_id(view, package))
    out.append(
        f'<node index="{index}" text="{escape(text)}" resource-id="{rid}"'
        f' class="{view.cls}" package="{package}" content-desc="{escape(view.desc)}"'
        f' checkable="{_b(view.checkable)}" checked="{_b(view.checked)}"'
        f' clickable="{_b(view.clickable)}" enabled="{_b(view.enabled)}"'
        f' focusable="{_b(view.focusable or view.clickable)}" focused="{_b(view.focused)}"'
        f' scrollable="{_b(view.scrollable)}" long-clickable="{_b(view.long_clickable)}"'
        f' password="{_b(view.password)}" selected="{_b(view.selected)}"'
        f' bounds="[{x1},{y1}][{x2},{y2}]"'
    )
    kids = [c for c in view.children if intersect(c.bounds, box) is not None]
    if not kids:
        out.append(" />")
        return
    out.append(">")
    for i, child in enumerate(kids):
        _node(child, i, package, box, out)
    out.append("</node>")


def dump(windows: list[Window], screen: Box, rotation: int = 0) -> str:
    """The whole screen as one ``uiautomator dump`` document (no trailing newline)."""
    out = [XML_HEADER, f'<hierarchy rotation="{rotation}">']
    for i, win in enumerate(windows):
        _node(win.root, i, win.package, screen, out)
    out.append("</hierarchy>")
    return "".join(out)
