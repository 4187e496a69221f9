"""Authoring helpers behind ``rig tasks list/show/new``: a suite at a glance, one task
in full, and a scaffold that validates as written (its oracle fails until it is written)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from tasks.folder import LoadedTask, check_task, find_task_files
from tasks.loader import Problem

KIND_OF_ROLE = {"phone": "android", "tablet": "android", "laptop": "linux", "server": "linux"}
ROLE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SERVICES = ("mail", "calendar", "contacts")


def list_rows(paths: list[Path]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """One row per task file found: id, mode, surfaces, devices, services, step limit
    (``problems`` set instead for a task that does not validate)."""
    files, problems = find_task_files(paths)
    rows = []
    for path in files:
        loaded, found = check_task(path)
        if loaded is None:
            rows.append({"path": str(path.parent), "problems": len(found)})
            problems.extend(found)
            continue
        t = loaded.task
        rows.append(
            {
                "path": str(path.parent),
                "id": t.id,
                "mode": t.mode,
                "surfaces": ",".join(t.surfaces),
                "devices": ",".join(f"{r}:{k}" for r, k in t.devices.items()),
                "services": ",".join(t.services) or "-",
                "max_steps": t.limits.max_steps,
            }
        )
    return rows, problems


def _brief(spec: Any) -> str:
    data = spec.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    kind = data.pop("kind")
    for k in ("id", "description", "weight"):
        data.pop(k, None)
    return f"{kind} " + ", ".join(f"{k}={v}" for k, v in data.items())


def show_text(loaded: LoadedTask) -> str:
    """The task as a reviewer reads it: instruction, world, checks, what the stream seeds."""
    t = loaded.task
    ev = t.events
    lines = [
        f"{t.id}: {t.title}",
        f"  mode {t.mode}"
        + (f" (heartbeat every {t.heartbeat_minutes} min)" * bool(t.heartbeat_minutes))
        + f", surfaces {', '.join(t.surfaces)}, limits {t.limits.max_steps} steps / "
        f"{t.limits.max_seconds:g} s",
        "",
        "instruction:",
        *[f"  {ln}" for ln in t.instruction.rstrip().splitlines()],
        "",
        "world:",
        f"  now {t.now.isoformat()} ({t.timezone})",
        "  devices " + ", ".join(f"{r} ({k})" for r, k in t.devices.items()),
        f"  services {', '.join(t.services) or 'none'}",
    ]
    if loaded.persona is not None:
        g = ev.generator
        lines.append(
            f"  persona {loaded.persona.name} ({ev.persona}), generated {g.days} days, seed "
            f"{g.seed}, density {g.density}, noise {g.noise}, conflicts {g.conflicts}"
        )
    else:
        lines.append("  persona none (only the plot)")
    stream = loaded.stream()
    by_target: dict[str, Counter[str]] = {}
    for e in stream:
        by_target.setdefault(e.target, Counter())[e.kind] += 1
    lines += ["", f"the stream seeds ({len(stream)} events, {len(loaded.plot)} from the plot):"]
    for target in sorted(by_target):
        counts = by_target[target]
        declared = not target.startswith("service:") or target[8:] in t.services
        note = "" if declared else "  (service not declared: not seeded)"
        shown = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        lines.append(f"  {target}: {sum(counts.values())} events: {shown}{note}")
    lines += ["", "plot:"]
    for e in loaded.plot:
        text = (
            getattr(e, "subject", None)
            or getattr(e, "title", None)
            or getattr(e, "body", None)
            or getattr(e, "path", None)
            or getattr(e, "text", None)
            or ""
        )
        text = " ".join(str(text).split())[:70]
        lines.append(f"  {e.id} {e.t.isoformat()} {e.kind} -> {e.target}: {text}")
    lines += ["", "checks:"]
    for i, c in enumerate(t.checks):
        lines.append(f"  [{c.id or i}] (weight {c.weight:g}) {_brief(c)}")
    lines += ["", "safety:"]
    for i, s in enumerate(t.safety):
        lines.append(f"  [{s.id or i}] {_brief(s)}")
    if not t.safety:
        lines.append("  none")
    return "\n".join(lines) + "\n"


def parse_devices(text: str) -> dict[str, str]:
    """``phone,laptop`` or ``phone:android,work:linux`` -> ``{role: kind}``."""
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        role, _, kind = item.partition(":")
        kind = kind or KIND_OF_ROLE.get(role, "")
        if not ROLE_RE.match(role):
            raise ValueError(f"role {role!r}: lowercase letters, digits, - or _")
        if kind not in ("android", "linux"):
            raise ValueError(f"role {role!r}: say its kind, e.g. {role}:android or {role}:linux")
        if role in out:
            raise ValueError(f"role {role!r} is given twice")
        out[role] = kind
    if not out:
        raise ValueError("give at least one device, e.g. --devices phone,laptop")
    return out


def scaffold(name: str, devices: dict[str, str], services: list[str]) -> tuple[str, str]:
    """``(task.yaml, oracle.py)`` for a new task: valid as written, every section shown."""
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    phones = [r for r, k in devices.items() if k == "android"]
    laptops = [r for r, k in devices.items() if k == "linux"]
    surfaces = (["gui"] if phones else []) + (["cli"] if laptops else [])
    if len(devices) > 1:
        surfaces.append("cross-device")
    y: list[str] = [
        f"# {name}: say in one line what the user wants and what makes it hard.",
        "# Ported from another benchmark? Name the original task here.",
        f"id: {name}",
        "title: TODO one line for the suite table",
        "mode: reactive                  # reactive | proactive (then add heartbeat_minutes: 30)",
        f"surfaces: [{', '.join(surfaces)}]",
        "instruction: |",
        "  TODO what the user says to the assistant, in their words.",
        "now: 2026-03-16T09:00:00+01:00  # the frozen clock; the offset must match the timezone",
        "timezone: Europe/Berlin",
        "",
        "devices:",
        *[f"  {r}: {k}" for r, k in devices.items()],
    ]
    if services:
        y += ["services: [" + ", ".join(services) + "]"]
    else:
        y += ["# services: [mail, calendar, contacts]   # the world's servers, when needed"]
    y += [
        "",
        "events:",
        "  persona: maya                 # maya (Berlin), ravi (Toronto), aiko (Tokyo) or a file",
        "  generator: {days: 30, seed: 1, density: 0.6, noise: 0.6, conflicts: 1}",
        "  plot:                         # the task's own events; times relative to now",
    ]
    if phones:
        p = phones[0]
        y += [
            "    - t: -2h",
            "      kind: sms.received",
            f"      target: {p}",
            '      address: "+49 176 3322 1100"',
            "      body: TODO the message that starts it",
            "    # - {t: -1d 09:00, kind: file.placed, target: " + p + ", "
            "path: /sdcard/Documents/x.md, text: hello}",
        ]
    if laptops:
        lt = laptops[0]
        y += [
            "    - t: -1d 18:00",
            "      kind: file.placed",
            f"      target: {lt}",
            "      path: ~/Documents/TODO.md",
            '      text: "TODO what the laptop holds\\n"',
            "    # - {t: -3d 10:00, kind: file.placed, target: " + lt + ", "
            "path: ~/Documents/invoice.pdf, source: files/invoice.pdf, mode: '0600'}",
        ]
    if "mail" in services:
        y += [
            "    - t: -3h",
            "      kind: mail.received",
            "      target: service:mail",
            '      message_id: "<todo-1@example.org>"',
            "      sender: someone@example.org",
            "      to: [maya.fischer@posteo.example]",
            "      subject: TODO",
            "      body: TODO",
        ]
    y += [
        "",
        "limits: {max_steps: 40, max_seconds: 900}",
        "",
        "checks:                         # success: weighted, read real state after the agent",
        "  - id: told-the-user",
        "    kind: message",
        "    channel: answer",
        "    any_of: [TODO, alternative wording]",
        "    # regex: '\\b16[:.]00\\b'",
        "    # absent: [the stale value]   # a near miss that must fail",
    ]
    if phones:
        y += [
            "  # - kind: provider_rows       # e.g. an SMS sent to one number, after now",
            f"  #   device: {phones[0]}",
            "  #   uri: content://sms",
            '  #   where: {type: 2, address: {phone: "+49 176 3322 1100"},'
            " body: {contains: TODO}, date: {after: now}}",
            "  #   count: 1",
        ]
    if laptops:
        y += [
            "  # - kind: file",
            f"  #   device: {laptops[0]}",
            "  #   path: ~/Documents/TODO.md",
            "  #   regex: '^- \\[x\\] TODO$'",
            "  # - {kind: file_search, device: " + laptops[0] + ", under: ~/Documents, "
            "name: '*.md', contains: [TODO]}",
        ]
    if "mail" in services:
        y += ["  # - {kind: mail, to: [someone@example.org], body: {keywords: [TODO]}, count: 1}"]
    if "calendar" in services:
        y += ["  # - {kind: calendar_events, summary: {keywords: [TODO]}, start: '+1d 10:00'}"]
    y += [
        "",
        "safety:                         # what must not happen; a violation zeroes the score",
    ]
    if phones:
        y += [
            f'  - {{kind: no_sms_to, device: {phones[0]}, allowed: ["+49 176 3322 1100"]}}',
            f"  - {{kind: no_new_rows, device: {phones[0]}, "
            'uri: "content://com.android.calendar/events", columns: [title]}',
        ]
    if laptops:
        y += [
            f"  - {{kind: no_command, device: {laptops[0]}, pattern: '\\brm\\s+-rf\\b'}}",
            f"  # - {{kind: file_unchanged_except, device: {laptops[0]}, "
            "path: ~/Documents/TODO.md, allow: ['^- ']}",
        ]
    if "mail" in services:
        y += ["  # - {kind: no_mail_to, recipients: [boss@example.org]}"]
    oracle = (
        f'"""Reference solution for {name}: acts only through the agent\'s actions."""\n\n\n'
        "def solve(env):\n"
        "    # TODO act as the agent would, e.g.\n"
        '    #   env.shell("laptop", "cat ~/Documents/TODO.md")\n'
        '    #   env.launch("phone", "messages")  # an app role, or a package name\n'
        '    #   env.answer("...")\n'
        "    # Until then this oracle does nothing, so the task is not sound yet\n"
        "    # (rig tasks validate --run says: oracle fails).\n"
        "    return None\n"
    )
    return "\n".join(y) + "\n", oracle


def write_scaffold(folder: Path, devices: dict[str, str], services: list[str]) -> list[Path]:
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty")
    name = folder.name
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,79}", name):
        raise ValueError(f"{name!r}: a task id is lowercase letters, digits, '.', '_' or '-'")
    task_yaml, oracle = scaffold(name, devices, services)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(task_yaml, encoding="utf-8")
    (folder / "oracle.py").write_text(oracle, encoding="utf-8")
    return [folder / "task.yaml", folder / "oracle.py"]
