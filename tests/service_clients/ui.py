"""Driving a phone the way an agent does: its uiautomator dump, taps, text and keys over adb."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any


def nodes(device: Any) -> list[dict[str, str]]:
    root = ET.fromstring(device.ui_tree().encode("utf-8"))
    return [dict(n.attrib) for n in root.iter("node")]


def rid(node: dict[str, str]) -> str:
    return node.get("resource-id", "").split(":id/")[-1]


def find(device: Any, **want: str) -> list[dict[str, str]]:
    out = []
    for n in nodes(device):
        if "rid" in want and rid(n) != want["rid"]:
            continue
        if "text" in want and n.get("text") != want["text"]:
            continue
        if "contains" in want and want["contains"] not in n.get("text", ""):
            continue
        if "desc" in want and n.get("content-desc") != want["desc"]:
            continue
        out.append(n)
    return out


def center(node: dict[str, str]) -> tuple[int, int]:
    x1, y1, x2, y2 = (int(v) for v in re.findall(r"\d+", node["bounds"]))
    return (x1 + x2) // 2, (y1 + y2) // 2


def tap(device: Any, **want: str) -> None:
    hits = find(device, **want)
    assert hits, f"nothing on screen matches {want}: {[n.get('text') for n in nodes(device)]}"
    device.tap(*center(hits[0]))


def texts(device: Any) -> list[str]:
    return [n.get("text", "") for n in nodes(device) if n.get("text")]
