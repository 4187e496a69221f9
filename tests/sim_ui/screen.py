"""Reading a UiSystem the way an agent does: through its hierarchy XML and its pixels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from PIL import Image

from emulator.sim.ui.system import UiSystem


@dataclass
class Node:
    attrs: dict[str, str]

    @property
    def text(self) -> str:
        return self.attrs["text"]

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        m = re.fullmatch(r"\[(\d+),(\d+)\]\[(\d+),(\d+)\]", self.attrs["bounds"])
        assert m, self.attrs["bounds"]
        x1, y1, x2, y2 = (int(g) for g in m.groups())
        return x1, y1, x2, y2

    @property
    def center(self) -> tuple[int, int]:
        x1, y1, x2, y2 = self.bounds
        return (x1 + x2) // 2, (y1 + y2) // 2


def nodes(ui: UiSystem) -> list[Node]:
    root = ET.fromstring(ui.hierarchy_xml().encode("utf-8"))
    return [Node(dict(n.attrib)) for n in root.iter("node")]


def find_all(ui: UiSystem, **want: str) -> list[Node]:
    """Nodes whose attributes equal ``want`` (``rid`` matches the id after ``:id/``)."""
    out = []
    for n in nodes(ui):
        ok = True
        for key, value in want.items():
            if key == "rid":
                ok = ok and n.attrs["resource-id"].split(":id/")[-1] == value
            elif key == "desc":
                ok = ok and n.attrs["content-desc"] == value
            elif key == "cls":
                ok = ok and n.attrs["class"] == value
            else:
                ok = ok and n.attrs[key] == value
        if ok:
            out.append(n)
    return out


def find(ui: UiSystem, **want: str) -> Node:
    hits = find_all(ui, **want)
    assert hits, f"no node with {want}; texts on screen: {[n.text for n in nodes(ui) if n.text]}"
    return hits[0]


def tap(ui: UiSystem, **want: str) -> Node:
    """Tap the centre of the first matching node, as an agent reading the dump would."""
    node = find(ui, **want)
    ui.tap(*node.center)
    return node


def type_into(ui: UiSystem, rid: str, text: str) -> None:
    tap(ui, rid=rid)
    ui.text(text)


def retype(ui: UiSystem, rid: str, text: str) -> None:
    """Tap a field, delete what it holds with DEL presses, and type ``text``."""
    node = tap(ui, rid=rid)
    for _ in range(len(node.text)):
        ui.keyevent(67)
    ui.text(text)


def dark_pixels(img: Image.Image, box: tuple[int, int, int, int], limit: int = 110) -> int:
    """How many pixels in ``box`` are dark (text ink on a light background)."""
    gray = img.crop(box).convert("L")
    return sum(gray.histogram()[:limit])


def colours(img: Image.Image, box: tuple[int, int, int, int]) -> int:
    return len(img.crop(box).getcolors(maxcolors=1 << 20) or [])
