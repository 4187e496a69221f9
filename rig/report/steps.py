"""Per-step extras for the page: thumbnails, the element a touch hit, seconds since start.

Thumbnails are small JPEGs beside the screenshots (``steps/0003-after.thumb.jpg``),
so the timeline loads kilobytes, not megabytes; the full screenshot loads only
when its step is opened. The recorder makes them as it goes; the report makes
any that are missing (older records).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

THUMB_HEIGHT = 160


def thumb_name(rel: str) -> str:
    return rel.rsplit(".", 1)[0] + ".thumb.jpg"


def make_thumbnail(src: Path, height: int = THUMB_HEIGHT) -> Path:
    """Write (once) and return the thumbnail of a screenshot."""
    dst = src.with_name(thumb_name(src.name))
    if dst.is_file():
        return dst
    with Image.open(src) as image:
        factor = max(1, image.height // height)
        small = image.reduce(factor) if factor > 1 else image.copy()
        small = small.convert("RGB")
        if small.height > height:
            small.thumbnail((height * 4, height))
        small.save(dst, format="JPEG", quality=70)
    return dst


def _bounds(text: str | None) -> tuple[int, int, int, int] | None:
    if not text:
        return None
    try:
        a, b = text.strip("[]").split("][")
        x1, y1 = (int(v) for v in a.split(","))
        x2, y2 = (int(v) for v in b.split(","))
    except ValueError:
        return None
    return x1, y1, x2, y2


def element_at(xml: str, x: int, y: int) -> dict[str, Any] | None:
    """The innermost node of a ``uiautomator dump`` containing (x, y), clickable ones first."""
    try:
        root = ET.fromstring(xml.encode("utf-8"))
    except ET.ParseError:
        return None
    best: tuple[int, int, ET.Element, tuple[int, int, int, int]] | None = None
    for node in root.iter("node"):
        b = _bounds(node.get("bounds"))
        if b is None or not (b[0] <= x < b[2] and b[1] <= y < b[3]):
            continue
        area = (b[2] - b[0]) * (b[3] - b[1])
        rank = (0 if node.get("clickable") == "true" else 1, area)
        if best is None or rank < best[:2]:
            best = (*rank, node, b)
    if best is None:
        return None
    node, b = best[2], best[3]
    name = node.get("class", "").rsplit(".", 1)[-1]
    text = node.get("text") or node.get("content-desc") or ""
    if not text:  # a clickable row: name it by what it shows
        inner = [n.get("text") or n.get("content-desc") for n in node.iter("node")]
        text = " · ".join(t for t in inner if t)[:80] or node.get("resource-id") or ""
    return {"bounds": list(b), "label": f"{name} {text!r}" if text else name}


def seconds(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def _thumbnail_or_none(src: Path) -> Path | None:
    try:
        return make_thumbnail(src)
    except OSError:  # a screenshot cut short by a crash
        return None


def _thumbnails(run_dir: Path, steps: list[dict[str, Any]]) -> dict[int, str]:
    """``{step index: thumbnail path}``; missing ones (older records) are made in parallel."""
    shots: dict[int, Path] = {}
    for i, s in enumerate(steps):
        files = s.get("files") or {}
        shot = files.get("after") or files.get("before")
        if shot and (run_dir / shot).is_file():
            shots[i] = run_dir / shot
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = dict(zip(shots, pool.map(_thumbnail_or_none, shots.values()), strict=True))
    return {i: str(p.relative_to(run_dir)) for i, p in made.items() if p is not None}


def enrich(run_dir: Path, steps: list[dict[str, Any]]) -> float | None:
    """Add ``t`` (s since the first step), ``thumb`` and ``hit`` to each step; returns t0."""
    times = [t for t in (seconds(s.get("time")) for s in steps) if t is not None]
    t0 = min(times) if times else None
    thumbs = _thumbnails(run_dir, steps)
    last_tree: dict[str, str] = {}  # device -> the UI tree the agent saw last (before this step)
    for i, s in enumerate(steps):
        at = seconds(s.get("time"))
        s["t"] = round(at - t0, 3) if at is not None and t0 is not None else None
        files = s.get("files") or {}
        if thumbs.get(i):
            s["thumb"] = thumbs[i]
        device = s.get("device") or ""
        touch = s.get("touch")
        size = (s.get("result") or {}).get("screen_size")
        if touch and device in last_tree and size:
            hit = element_at(last_tree[device], int(touch[0]), int(touch[1]))
            if hit:
                hit["screen"] = list(size)
                s["hit"] = hit
        tree = files.get("ui_tree")
        if tree and (run_dir / tree).is_file():
            last_tree[device] = (run_dir / tree).read_text(encoding="utf-8", errors="replace")
    return t0


def world_shift(task: dict[str, Any], episode: dict[str, Any]) -> float:
    """Seconds to add to a world time (service audit ``t``) to get host time.

    Services count world time from the task's ``now`` since the world came up, so
    a world time maps to the episode's start plus the same elapsed time (off by the
    part of allocation before the services started, well under a step).
    """
    now, started = seconds(task.get("now")), seconds(episode.get("started"))
    return 0.0 if now is None or started is None else started - now


def agent_window(steps: list[dict[str, Any]]) -> tuple[float, float] | None:
    """Host times of the first step's start and the last step's end."""
    spans = [
        (t, t + float((s.get("durations") or {}).get("step_s") or 0))
        for s in steps
        if (t := seconds(s.get("time"))) is not None
    ]
    return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None
