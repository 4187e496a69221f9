"""Live events: what happens while the agent works (``live:`` in task.yaml).

A live event is an event of the plot's vocabulary (:mod:`tasks.events`) whose ``t`` lies
after the task's ``now`` (``+3m``, ``+2h``, ``+1d 14:00`` or an absolute time). Instead of
being seeded before the agent starts, it is delivered through the real path when world time
reaches it (:mod:`rig.live_events`), so only kinds with such a path may be live:

* ``sms.received`` to an android role — the phone's console ``sms send``;
* ``mail.received`` to ``service:mail`` — SMTP submission to the world's mail service;
* ``calendar.created`` / ``.moved`` / ``.cancelled`` to ``service:calendar`` — CalDAV;
* ``chat.message`` to ``service:chat`` — the homeserver's client API, as the sender;
* ``file.placed`` to a linux role (``~/…``) or an android role (``/sdcard/…``);
* ``bank.transaction`` to ``service:bank`` — a booking posted to the bank.

Checks and safety refer to a live event as ``live[N]`` (its place in the list) or by id.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from tasks.events import EVENT_ADAPTER, SERVICE_PREFIX, EventBase, target_problem
from tasks.loader import Located, Problem, problems_from
from tasks.times import iso

# kind -> where it may go: "android"/"linux" device kinds, or "service:NAME".
LIVE_PATHS: dict[str, tuple[str, ...]] = {
    "sms.received": ("android",),
    "mail.received": ("service:mail",),
    "calendar.created": ("service:calendar",),
    "calendar.moved": ("service:calendar",),
    "calendar.cancelled": ("service:calendar",),
    "chat.message": ("service:chat",),
    "file.placed": ("linux", "android"),
    "bank.transaction": ("service:bank",),
}
# How far after now a live event may fall: an episode's world is at most a week long.
MAX_AHEAD = timedelta(days=7)
_REF = re.compile(r"^live\[(\d+)\]$")


def live_id(index: int) -> str:
    """The id a live event gets when the task gives none."""
    return f"live{index}"


def resolve_ref(ref: str, events: list[EventBase]) -> int | None:
    """The index of ``live[N]`` or of a live event's id in ``events``; None if unknown."""
    m = _REF.match(ref.strip())
    if m:
        n = int(m.group(1))
        return n if n < len(events) else None
    return next((i for i, e in enumerate(events) if e.id == ref), None)


def _path_problem(event: EventBase, devices: dict[str, str], services: list[str]) -> str | None:
    paths = LIVE_PATHS.get(event.kind)
    if paths is None:
        kinds = ", ".join(sorted(LIVE_PATHS))
        return f"a {event.kind} event cannot be delivered live (live kinds: {kinds})"
    if event.target.startswith(SERVICE_PREFIX):
        if event.target not in paths:
            return f"a live {event.kind} goes to {' or '.join(paths)}, not {event.target}"
        name = event.target[len(SERVICE_PREFIX) :]
        if name not in services:
            return f"{event.target} is not among the task's services"
        return None
    kind = devices.get(event.target)
    if kind is not None and kind not in paths:
        return f"a live {event.kind} goes to {' or '.join(paths)}, not a {kind} device"
    return target_problem(event, devices)


def check_live(
    raw: Any,
    src: Located,
    ctx: dict[str, Any] | None,
    devices: dict[str, str],
    services: list[str],
) -> tuple[list[EventBase], list[Problem]]:
    """The task's live events (ids filled in, in time order kept as written) and problems."""
    problems: list[Problem] = []
    if raw is None:
        return [], problems
    if not isinstance(raw, list):
        return [], [Problem(src.file, src.line(("live",)), "live", "must be a list of events")]
    if ctx is None:  # the now/timezone problem is reported by the header
        return [], problems
    now: datetime = ctx["now"]
    out: list[EventBase] = []
    ids: set[str] = set()
    for i, item in enumerate(raw):
        loc = ("live", i)
        try:
            event = EVENT_ADAPTER.validate_python(item, context=ctx)
        except ValidationError as exc:
            problems.extend(problems_from(exc, src, loc))
            continue

        def at(fld: str, message: str, i: int = i) -> None:
            problems.append(
                Problem(src.file, src.line(("live", i, fld)), f"live[{i}].{fld}", message)
            )

        why = _path_problem(event, devices, services)
        if why:
            at("target" if LIVE_PATHS.get(event.kind) else "kind", why)
        elif event.target in devices and (why := event.device_problem(devices[event.target])):
            at("path", why)
        if event.kind == "file.placed" and getattr(event, "source", None) is not None:
            at("source", "a live file carries its text inline (text:), not a source file")
        if event.kind == "sms.received" and re.search(r"[\r\n]", getattr(event, "body", "")):
            at("body", "a live SMS is one line (the console's sms send takes one line)")
        if event.kind == "sms.received" and not re.search(r"\d", getattr(event, "address", "")):
            # The console sends from a number: a name like 'DHL' would arrive from elsewhere.
            at("address", "a live SMS comes from a number (the console's sms send has no names)")
        if event.t < now:
            at("t", f"{iso(event.t)} is before now ({iso(now)}); a live event happens later")
        elif event.t - now > MAX_AHEAD:
            at("t", f"{iso(event.t)} is more than {MAX_AHEAD.days} days after now")
        event_id = event.id or live_id(i)
        if event_id in ids:
            at("id", f"duplicate live event id {event_id!r}")
        ids.add(event_id)
        out.append(event.model_copy(update={"id": event_id, "tags": [*event.tags, "live"]}))
    return out, problems


def live_ref_problems(task: Any, live: list[EventBase], src: Located) -> list[Problem]:
    """Checks and safety checks that name a live event the task does not have."""
    if task is None:
        return []
    out = []
    for section in ("checks", "safety"):
        for i, item in enumerate(getattr(task, section)):
            refs = getattr(item, "live_refs", None)
            for fld, ref in refs() if refs is not None else []:
                if resolve_ref(ref, live) is None:
                    have = ", ".join(e.id or "" for e in live) or "none"
                    out.append(
                        Problem(
                            src.file,
                            src.line((section, i, fld)),
                            f"{section}[{i}].{fld}",
                            f"{ref!r} is not a live event of the task (live: {have})",
                        )
                    )
    return out


__all__ = ["LIVE_PATHS", "check_live", "live_id", "live_ref_problems", "resolve_ref"]
