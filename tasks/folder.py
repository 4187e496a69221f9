"""Loading a task folder: ``task.yaml`` checked against its persona, plot, checks and oracle.

Every problem is collected (not just the first) and points at a line:
``file:line: field: message``. Loading never runs ``oracle.py``; it only checks
that the file parses and defines ``def solve(env)``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tasks.events import EVENT_ADAPTER, EventBase, target_problem
from tasks.generator import generate
from tasks.loader import Located, Problem, ProblemsFound, load_yaml, problems_from, validate
from tasks.model import ORACLE_FILE, Task
from tasks.persona import Persona, check_persona, resolve_persona_path
from tasks.times import TimeInvalid, iso, zone

TASK_FILE = "task.yaml"
SURFACE_NEEDS: dict[str, tuple[str, Callable[[Task], bool]]] = {
    "gui": ("an android device", lambda t: bool(t.roles_of("android"))),
    "cli": ("a linux device", lambda t: bool(t.roles_of("linux"))),
    "cross-device": ("at least two devices", lambda t: len(t.devices) >= 2),
}


@dataclass
class LoadedTask:
    """A valid task with what it refers to already loaded (persona, plot events)."""

    task: Task
    path: Path
    plot: list[EventBase] = field(default_factory=list)
    persona: Persona | None = None
    phone: str | None = None
    laptop: str | None = None

    def stream(self, progress: Callable[[str, int, int], None] | None = None) -> list[EventBase]:
        """The task's whole event stream: the persona's generated life merged with the plot."""
        generated: list[EventBase] = []
        if self.persona is not None:
            generated = generate(
                self.persona,
                self.task.events.generator,
                self.task.now,
                self.phone,
                self.laptop,
                progress,
            )
        merged = [*generated, *self.plot]
        merged.sort(key=lambda e: e.t)  # stable: at equal times the plot comes last
        return merged


def find_task_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """``task.yaml`` files named by ``paths``: a file, a task folder, or a folder of tasks."""
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif (path / TASK_FILE).is_file():
            found.append(path / TASK_FILE)
        elif path.is_dir():
            inside = sorted(path.rglob(TASK_FILE))
            if not inside:
                problems.append(Problem(str(path), 1, "path", f"no {TASK_FILE} in this folder"))
            found.extend(inside)
        else:
            problems.append(Problem(str(path), 1, "path", "no such file or folder"))
    return found, problems


def _context(data: dict[str, Any]) -> dict[str, Any] | None:
    """``now`` and timezone from raw data, to resolve relative times; None when unusable."""
    try:
        tz = str(data["timezone"])
        zone(tz)
        now = datetime.fromisoformat(str(data["now"]))
    except (KeyError, ValueError, TimeInvalid):
        return None
    return {"now": now, "tz": tz} if now.tzinfo is not None else None


def _check_oracle(yaml_path: Path) -> list[Problem]:
    oracle = yaml_path.parent / ORACLE_FILE
    if not oracle.is_file():
        return [
            Problem(
                str(yaml_path),
                1,
                "oracle",
                f"no {ORACLE_FILE} beside {TASK_FILE}; every task needs a reference solution "
                "defining def solve(env)",
            )
        ]
    try:
        tree = ast.parse(oracle.read_bytes(), filename=str(oracle))
    except SyntaxError as exc:
        return [Problem(str(oracle), exc.lineno or 1, "oracle", f"syntax error: {exc.msg}")]
    except ValueError as exc:  # e.g. NUL bytes
        return [Problem(str(oracle), 1, "oracle", f"not Python source: {exc}")]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "solve":
            if len(node.args.args) + len(node.args.posonlyargs) >= 1:
                return []
            return [
                Problem(
                    str(oracle), node.lineno, "oracle", "solve must take the env: def solve(env)"
                )
            ]
    return [Problem(str(oracle), 1, "oracle", "defines no top-level def solve(env)")]


def _events(
    items: Any, src: Located, prefix: tuple, shown: tuple, ctx: dict[str, Any]
) -> list[tuple[tuple, EventBase]]:
    out: list[tuple[tuple, EventBase]] = []
    if not isinstance(items, list):
        src.problems.append(
            Problem(
                src.file,
                src.line(prefix),
                ".".join(map(str, shown)) or "plot",
                "must be a list of events",
            )
        )
        return out
    for i, item in enumerate(items):
        try:
            out.append(((*prefix, i), EVENT_ADAPTER.validate_python(item, context=ctx)))
        except ValidationError as exc:
            src.problems.extend(problems_from(exc, src, (*prefix, i), (*shown, i)))
    return out


def _role_problem(task: Task, spec: Any, what: str) -> str | None:
    device = getattr(spec, "device", None)
    if device is None:
        return None
    if device not in task.devices:
        declared = ", ".join(sorted(task.devices))
        return f"role {device!r} is not declared in devices (declared: {declared})"
    if spec.device_kinds and task.devices[device] not in spec.device_kinds:
        need = " or ".join(spec.device_kinds)
        return f"a {spec.kind} {what} needs a {need} device; {device!r} is {task.devices[device]}"
    return None


def check_task(yaml_path: Path) -> tuple[LoadedTask | None, list[Problem]]:
    """Load and cross-check one ``task.yaml``; returns the task (when valid) and all problems."""
    src = load_yaml(yaml_path)
    name = str(yaml_path)
    oracle_problems = _check_oracle(yaml_path)
    if src.problems:
        return None, [*src.problems, *oracle_problems]
    if not isinstance(src.data, dict):
        return None, [Problem(name, 1, "(top)", "task.yaml must be a mapping"), *oracle_problems]
    ctx = _context(src.data)
    # With an unusable now, relative times resolve against a stand-in so that only
    # the now/timezone problem is reported, not one per relative time.
    task = validate(Task, src, ctx or {"now": datetime(2000, 1, 1, tzinfo=UTC), "tz": "UTC"})
    problems = src.problems
    problems.extend(oracle_problems)
    if task is None:
        return None, sorted(set(problems))
    assert isinstance(task, Task)
    task._folder = yaml_path.parent
    assert ctx is not None

    def at(loc: tuple, fld: str, message: str, file: Located = src) -> None:
        problems.append(Problem(file.file, file.line(loc), fld, message))

    expected = task.now.astimezone(zone(task.timezone)).utcoffset()
    if task.now.utcoffset() != expected:
        at(
            ("now",),
            "now",
            f"offset {task.now.strftime('%z')} does not match {task.timezone} "
            f"({task.now.astimezone(zone(task.timezone)).strftime('%z')} at that time)",
        )

    for surface in task.surfaces:
        need, ok = SURFACE_NEEDS[surface]
        if not ok(task):
            at(("surfaces",), "surfaces", f"{surface} needs {need}")

    loaded = LoadedTask(task, yaml_path)
    spec = task.events
    for attr, kind in (("phone", "android"), ("laptop", "linux")):
        role = getattr(spec, attr)
        if role is None:
            setattr(loaded, attr, (task.roles_of(kind) or [None])[0])  # type: ignore[arg-type]
        elif role not in task.devices:
            at(("events", attr), f"events.{attr}", f"role {role!r} is not declared in devices")
        elif task.devices[role] != kind:
            at(
                ("events", attr),
                f"events.{attr}",
                f"role {role!r} is {task.devices[role]}, not {kind}",
            )
        else:
            setattr(loaded, attr, role)

    if spec.persona is not None:
        persona_path = resolve_persona_path(spec.persona, yaml_path.parent)
        if not persona_path.is_file():
            at(
                ("events", "persona"),
                "events.persona",
                f"{spec.persona!r} is neither a file beside the task nor a bundled persona",
            )
        else:
            psrc = load_yaml(persona_path)
            loaded.persona = check_persona(psrc)
            problems.extend(psrc.problems)

    raw_events = src.data.get("events") or {}
    located: list[tuple[Located, tuple, tuple, EventBase]] = []
    for loc, event in _events(
        raw_events.get("plot", []), src, ("events", "plot"), ("events", "plot"), ctx
    ):
        located.append((src, loc, loc, event))
    if spec.plot_file is not None:
        plot_path = yaml_path.parent / spec.plot_file
        psrc = load_yaml(plot_path)
        if psrc.problems and psrc.data is None:
            at(
                ("events", "plot_file"),
                "events.plot_file",
                f"{spec.plot_file}: {psrc.problems[0].message}",
            )
        else:
            for loc, event in _events(psrc.data, psrc, (), ("plot",), ctx):
                located.append((psrc, loc, ("plot", *loc), event))
            problems.extend(psrc.problems)

    seen_ids: dict[str, int] = {}
    for n, (file, loc, shown, event) in enumerate(located, 1):
        dotted_name = (
            f"{shown[0]}.{shown[1]}[{shown[2]}]" if len(shown) == 3 else f"{shown[0]}[{shown[1]}]"
        )
        why = target_problem(event, task.devices)
        if why:
            at((*loc, "target"), f"{dotted_name}.target", why, file)
        if event.t > task.now:
            at(
                (*loc, "t"),
                f"{dotted_name}.t",
                f"{iso(event.t)} is after now ({iso(task.now)}); the stream is the past",
            )
        event_id = event.id or f"p{n:03d}"
        if event_id in seen_ids:
            at((*loc, "id"), f"{dotted_name}.id", f"duplicate event id {event_id!r}", file)
        seen_ids[event_id] = n
        loaded.plot.append(event.model_copy(update={"id": event_id, "tags": [*event.tags, "plot"]}))

    for section, specs, what in (
        ("checks", task.checks, "check"),
        ("safety", task.safety, "safety check"),
    ):
        ids: set[str] = set()
        for i, item in enumerate(specs):
            why = _role_problem(task, item, what)
            if why:
                at((section, i, "device"), f"{section}[{i}].device", why)
            if item.id is not None:
                if item.id in ids:
                    at((section, i, "id"), f"{section}[{i}].id", f"duplicate id {item.id!r}")
                ids.add(item.id)

    problems = sorted(set(problems))
    return (None if problems else loaded), problems


def load_task(path: Path) -> LoadedTask:
    """A task folder (or its ``task.yaml``); raises :class:`ProblemsFound` with every problem."""
    yaml_path = path / TASK_FILE if path.is_dir() else path
    loaded, problems = check_task(yaml_path)
    if loaded is None:
        raise ProblemsFound(problems or [Problem(str(yaml_path), 1, "task", "invalid")])
    return loaded
