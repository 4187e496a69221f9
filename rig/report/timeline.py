"""The cross-device timeline: one lane per device, service and the agent's words.

Lanes come from sources, each a function of the episode record that returns
items ``{"lane", "t", "label", "step"?, "thumb"?, "cls"?}`` (``t`` in seconds
since the first step). A new kind of happening (live events, heartbeats, a
service's audit) is one more source in :data:`SOURCES`; the page draws
whatever lanes the sources produce, in order of first appearance.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rig.report.steps import agent_window, seconds, world_shift

Item = dict[str, Any]
Source = Callable[[dict[str, Any]], list[Item]]

AGENT_LANE = "agent"
TALK = {"answer", "notify", "ask_user", "finish"}
AUDIT_DETAIL = ("recipient", "sender", "path", "message_id", "mailbox", "user")


def _label(step: dict[str, Any]) -> str:
    a = step.get("action") or {}
    kind = a.get("action", "?")
    for key in ("command", "text", "question", "app", "path", "key", "message", "reason"):
        if a.get(key):
            return f"{kind}: {str(a[key])[:60]}"
    if a.get("element") is not None:
        return f"{kind} #{a['element']}"
    if a.get("x") is not None:
        return f"{kind} ({a['x']},{a.get('y')})"
    if a.get("raw") is not None:
        return f"{kind}: {str(a['raw'])[:60]}"
    return str(kind)


def step_items(rec: dict[str, Any]) -> list[Item]:
    items = []
    for s in rec["steps"]:
        a = s.get("action") or {}
        kind = a.get("action")
        lane = AGENT_LANE if kind in TALK or not s.get("device") else s["device"]
        ok = (s.get("result") or {}).get("ok", True)
        items.append(
            {
                "lane": lane,
                "t": s.get("t"),
                "dur": (s.get("durations") or {}).get("step_s"),
                "label": _label(s),
                "step": s.get("step"),
                "thumb": s.get("thumb"),
                "cls": "err" if ok is False else kind or "",
            }
        )
        if s.get("agent_message") and lane != AGENT_LANE:
            items.append(
                {
                    "lane": AGENT_LANE,
                    "t": s.get("t"),
                    "label": "says: " + str(s["agent_message"])[:80],
                    "step": s.get("step"),
                    "cls": "says",
                }
            )
    return items


def _jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def _at(rec: dict[str, Any], iso: Any, shift: float = 0.0) -> float | None:
    """Seconds since the first step of a host time (or a world time, with ``shift``)."""
    t, t0 = seconds(str(iso) if iso else None), rec.get("t0")
    return None if t is None or t0 is None else round(t + shift - t0, 3)


def event_items(rec: dict[str, Any]) -> list[Item]:
    """``events.jsonl``: live events and heartbeats as the rig delivered them
    (``{"time", "lane" or "target", "kind", "text"}``), when the episode had any."""
    path = rec.get("dir") and Path(rec["dir"]) / "events.jsonl"
    if not path or not path.is_file():
        return []
    items = []
    for e in _jsonl(path):
        kind = str(e.get("kind", "event"))
        lane = e.get("lane") or ("heartbeats" if "heartbeat" in kind else "events")
        text = e.get("text") or e.get("summary") or ""
        items.append(
            {"lane": str(lane), "t": _at(rec, e.get("time")), "label": f"{kind}: {text}"[:90],
             "cls": "event"}
        )  # fmt: skip
    return items


LIVE_LANE = "live events"


def live_items(rec: dict[str, Any]) -> list[Item]:
    """``live.jsonl``: each live event as the rig delivered it (rig/live_events.py), at the
    host time it landed, labelled with its kind, target and world time."""
    path = rec.get("dir") and Path(rec["dir"]) / "live.jsonl"
    if not path or not path.is_file():
        return []
    items = []
    for e in _jsonl(path):
        world = str(e.get("delivered") or e.get("due") or "")[11:16]
        label = f"{e.get('kind', 'event')} → {e.get('target', '?')} at {world}"
        if not e.get("ok", True):
            label += f" FAILED: {e.get('error', '')}"
        items.append(
            {
                "lane": LIVE_LANE,
                "t": _at(rec, e.get("host_delivered")),
                "label": label[:120],
                "cls": "event" if e.get("ok", True) else "err",
            }
        )
    return items


def audit_items(rec: dict[str, Any]) -> list[Item]:
    """``services/NAME/audit.jsonl``: every request a service saw, in that service's lane
    (audit times are world times, see :func:`rig.report.steps.world_shift`)."""
    root = rec.get("dir") and Path(rec["dir"]) / "services"
    if not root or not root.is_dir():
        return []
    shift = world_shift(rec.get("task") or {}, rec.get("episode") or {})
    window, t0 = agent_window(rec.get("steps") or []), rec.get("t0")
    end = window[1] - t0 if window and t0 is not None else 0.0
    items = []
    for audit in sorted(root.glob("*/audit.jsonl")):
        for e in _jsonl(audit):
            t = _at(rec, e.get("t"), shift)
            if t is None or t < -0.5 or t > end + 0.5:
                continue  # seeding and its read-back before, the rig reading state after
            what = e.get("op") or "request"
            detail = next((str(e[k]) for k in AUDIT_DETAIL if e.get(k)), "")
            items.append(
                {
                    "lane": audit.parent.name,
                    "t": t,
                    "label": f"{what} {detail}"[:90],
                    "cls": "audit",
                }
            )
    return items


SOURCES: list[Source] = [step_items, event_items, live_items, audit_items]


def lanes(rec: dict[str, Any]) -> list[tuple[str, list[Item]]]:
    """Lanes in a stable order: the task's devices, then the others as first seen, agent last."""
    order: list[str] = list((rec.get("task") or {}).get("devices") or {})
    by_lane: dict[str, list[Item]] = {}
    for source in SOURCES:
        for item in source(rec):
            if item.get("lane") not in order and item.get("lane") != AGENT_LANE:
                order.append(item["lane"])
            by_lane.setdefault(item["lane"], []).append(item)
    order.append(AGENT_LANE)
    return [(lane, by_lane.get(lane, [])) for lane in order]


def render(rec: dict[str, Any], px_per_s: float | None = None) -> str:
    """The timeline's HTML: lanes of absolutely placed markers, thumbnails lazy-loaded."""
    all_lanes = lanes(rec)
    span = max(
        [(i.get("t") or 0) + (i.get("dur") or 0) for _, items in all_lanes for i in items] + [1]
    )
    count = sum(len(items) for _, items in all_lanes)
    width = max(900, min(60_000, int(count * 30)))
    scale = px_per_s or (width - 40) / span
    rows = []
    for lane, items in all_lanes:
        marks = []
        for i in items:
            left = int((i.get("t") or 0) * scale)
            title = html.escape(f"{i.get('t') or 0:.1f}s · {i['label']}", quote=True)
            cls = html.escape(str(i.get("cls", "")), quote=True)
            attrs = f'class="mk {cls}" style="left:{left}px" title="{title}"'
            if i.get("step") is not None:
                attrs += f' data-step="{int(i["step"])}" href="#step-{int(i["step"])}"'
                tag = "a"
            else:
                tag = "span"
            inner = (
                f'<img loading="lazy" alt="" src="{html.escape(i["thumb"], quote=True)}">'
                if i.get("thumb")
                else html.escape(i["label"][:18])
            )
            marks.append(f"<{tag} {attrs}>{inner}</{tag}>")
        rows.append(
            f'<div class="lane" data-lane="{html.escape(lane, quote=True)}">'
            f'<div class="lname">{html.escape(lane)}</div>'
            f'<div class="track" style="width:{width}px">{"".join(marks)}</div></div>'
        )
    ticks = "".join(
        f'<span class="tick" style="left:{int(s * scale)}px">{s}s</span>' for s in _ticks(span)
    )
    return (
        f'<section id="timeline"><h2>Timeline</h2><div class="tl">'
        '<div class="lane axis"><div class="lname"></div>'
        f'<div class="track" style="width:{width}px">'
        f"{ticks}</div></div>{''.join(rows)}</div></section>"
    )


def _ticks(span: float) -> list[int]:
    step = next((s for s in (1, 2, 5, 10, 20, 30, 60, 120, 300, 600) if span / s <= 20), 1200)
    return list(range(0, int(span) + 1, step))
