"""Compact UI trees for agents: one line per useful element, with an id ``tap`` can target.

A raw ``uiautomator dump`` is kilobytes of attributes per screen; models read
it badly and pay for every token. The compact form keeps what an agent acts
on — class, text, description, resource id, state and bounds — and drops
layout-only containers.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")


@dataclass(frozen=True)
class Element:
    id: int
    cls: str
    text: str
    desc: str
    resource_id: str
    bounds: tuple[int, int, int, int]
    clickable: bool
    scrollable: bool
    focused: bool
    checked: bool | None

    @property
    def center(self) -> tuple[int, int]:
        x1, y1, x2, y2 = self.bounds
        return ((x1 + x2) // 2, (y1 + y2) // 2)

    def line(self) -> str:
        parts = [f"[{self.id}]", self.cls]
        if self.text:
            parts.append(repr(self.text))
        if self.desc:
            parts.append(f"desc={self.desc!r}")
        if self.resource_id:
            parts.append(f"id={self.resource_id.rsplit('/', 1)[-1]}")
        flags = [
            name
            for name, on in (
                ("clickable", self.clickable),
                ("scrollable", self.scrollable),
                ("focused", self.focused),
            )
            if on
        ]
        if self.checked is not None:
            flags.append("checked" if self.checked else "unchecked")
        if flags:
            parts.append(",".join(flags))
        x1, y1, x2, y2 = self.bounds
        parts.append(f"[{x1},{y1}][{x2},{y2}]")
        return " ".join(parts)


class UiTreeError(ValueError):
    """The dump is not a uiautomator hierarchy."""


def parse(xml_text: str) -> list[Element]:
    """Elements worth showing, in document order, numbered from 0."""
    try:
        root = ET.fromstring(xml_text.encode("utf-8") if isinstance(xml_text, str) else xml_text)
    except ET.ParseError as exc:
        raise UiTreeError(f"UI tree is not XML: {exc}") from None
    if root.tag != "hierarchy":
        raise UiTreeError(f"UI tree root is <{root.tag}>, expected <hierarchy>")
    out: list[Element] = []
    for node in root.iter("node"):
        a = node.attrib
        match = _BOUNDS.fullmatch(a.get("bounds", ""))
        if not match:
            continue
        bounds = tuple(int(v) for v in match.groups())
        if bounds[2] <= bounds[0] or bounds[3] <= bounds[1]:
            continue
        text, desc = a.get("text", ""), a.get("content-desc", "")
        clickable = a.get("clickable") == "true" or a.get("long-clickable") == "true"
        scrollable = a.get("scrollable") == "true"
        checkable = a.get("checkable") == "true"
        editable = "EditText" in a.get("class", "")
        if not (text or desc or clickable or scrollable or checkable or editable):
            continue
        out.append(
            Element(
                id=len(out),
                cls=a.get("class", "").rsplit(".", 1)[-1],
                text=text,
                desc=desc,
                resource_id=a.get("resource-id", ""),
                bounds=bounds,  # type: ignore[arg-type]
                clickable=clickable,
                scrollable=scrollable,
                focused=a.get("focused") == "true",
                checked=(a.get("checked") == "true") if checkable else None,
            )
        )
    return out


def render(elements: list[Element]) -> str:
    return "\n".join(e.line() for e in elements)
