"""Loading a task folder: ``task.yaml`` checked against its persona, plot, checks and oracle.

Every problem is collected (not just the first) and points at a line:
``file:line: field: message``. Loading never runs ``oracle.py``; it only checks
that the file parses and defines ``def solve(env)``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tasks.checks import CheckSpec, SafetySpec
from tasks.events import (
    EVENT_ADAPTER,
    MAX_PLACED_BYTES,
    EventBase,
    FilePlaced,
    dangling_references,
    duplicate_names,
    target_problem,
)
from tasks.generator import generate, without_contradictions
from tasks.live import check_live, live_ref_problems
from tasks.loader import Located, Problem, ProblemsFound, dotted, load_yaml, problems_from
from tasks.model import ORACLE_FILE, Task
from tasks.persona import (
    Persona,
    check_persona,
    fill_facts,
    override_persona,
    resolve_persona_path,
)
from tasks.service_checks import needed_services
from tasks.times import TimeInvalid, iso, zone

TASK_FILE = "task.yaml"
# Which persona field a shorthand override changes (errors point at the task's line).
_SHORTHAND_FIELD = {"bills": "rent", "bank": "salary", "employer": "employer_name"}
CHECKS: TypeAdapter[Any] = TypeAdapter(CheckSpec)
SAFETY: TypeAdapter[Any] = TypeAdapter(SafetySpec)
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
    live: list[EventBase] = field(default_factory=list)  # delivered during the agent phase

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
                services=tuple(self.task.services),
            )
            generated = without_contradictions(generated, self.plot)
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
                dotted(shown) if shown else "plot",
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


def _read_source(event: FilePlaced, folder: Path) -> tuple[FilePlaced, str | None]:
    """The event with its bundled file's bytes, or why they cannot be read."""
    assert event.source is not None
    path = folder / event.source
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except OSError as exc:
        return event, f"{event.source!r}: {exc}"
    if not inside:
        return event, f"{event.source!r} leads outside the task folder"
    if not path.is_file():
        return event, f"{event.source!r}: no such file in the task folder"
    if path.stat().st_size > MAX_PLACED_BYTES:
        return event, f"{event.source!r} is larger than {MAX_PLACED_BYTES} bytes"
    return event.model_copy(update={"data": path.read_bytes()}), None


def _role_problem(devices: dict[str, str], spec: Any, what: str) -> str | None:
    device = getattr(spec, "device", None)
    if device is None:
        return None
    if device not in devices:
        declared = ", ".join(sorted(devices)) or "none"
        return f"role {device!r} is not declared in devices (declared: {declared})"
    if spec.device_kinds and devices[device] not in spec.device_kinds:
        need = " or ".join(spec.device_kinds)
        article = "an" if need[0] in "aeiou" else "a"
        return (
            f"a {spec.kind} {what} needs {article} {need} device; {device!r} is {devices[device]}"
        )
    return None


def _items(
    adapter: TypeAdapter[Any], raw: Any, src: Located, section: str, ctx: dict[str, Any]
) -> tuple[list[tuple[int, Any]], bool]:
    """Validate a list section item by item, so one bad check hides none of the others."""
    if not isinstance(raw, list):
        return [], False
    good: list[tuple[int, Any]] = []
    failed = False
    for i, item in enumerate(raw):
        try:
            good.append((i, adapter.validate_python(item, context=ctx)))
        except ValidationError as exc:
            src.problems.extend(problems_from(exc, src, (section, i)))
            failed = True
    return good, failed


def check_task(yaml_path: Path) -> tuple[LoadedTask | None, list[Problem]]:
    """Load and cross-check one ``task.yaml``; returns the task (when valid) and all problems.

    Sections are validated separately (the header, each check, each safety check,
    each plot event), and cross-references are checked on whatever is valid, so a
    single run reports every independent problem.
    """
    src = load_yaml(yaml_path)
    name = str(yaml_path)
    not_yaml = src.data is None and bool(src.problems)  # duplicate keys are not fatal
    problems = src.problems
    problems.extend(_check_oracle(yaml_path))
    if not_yaml:
        return None, sorted(set(problems))
    if not isinstance(src.data, dict):
        problems.append(Problem(name, 1, "(top)", "task.yaml must be a mapping"))
        return None, sorted(set(problems))
    raw: dict[str, Any] = src.data
    ctx = _context(raw)
    # With an unusable now, relative times resolve against a stand-in so that only
    # the now/timezone problem is reported, not one per relative time.
    vctx = ctx or {"now": datetime(2000, 1, 1, tzinfo=UTC), "tz": "UTC"}

    def at(loc: tuple, fld: str, message: str, file: Located = src) -> None:
        problems.append(Problem(file.file, file.line(loc), fld, message))

    raw_devices = raw.get("devices") if isinstance(raw.get("devices"), dict) else {}
    devices = {r: k for r, k in raw_devices.items() if k in ("android", "linux")}
    raw_events = raw.get("events") if isinstance(raw.get("events"), dict) else {}

    roles: dict[str, str | None] = {}
    for attr, kind in (("phone", "android"), ("laptop", "linux")):
        role = raw_events.get(attr)
        if role is None:
            roles[attr] = next((r for r, k in devices.items() if k == kind), None)
        elif role not in devices:
            at(("events", attr), f"events.{attr}", f"role {role!r} is not declared in devices")
        elif devices[role] != kind:
            at(("events", attr), f"events.{attr}", f"role {role!r} is {devices[role]}, not {kind}")
        else:
            roles[attr] = role

    persona: Persona | None = None
    persona_ref = raw_events.get("persona")
    changes: dict[str, Any] | None = None
    if isinstance(persona_ref, dict):
        changes = {k: v for k, v in persona_ref.items() if k != "base"}
        persona_ref = persona_ref.get("base")
        if not isinstance(persona_ref, str):
            at(
                ("events", "persona"),
                "events.persona.base",
                "name the persona the facts change, e.g. {base: ravi, rent: 1450}",
            )
    if isinstance(persona_ref, str):
        persona_path = resolve_persona_path(persona_ref, yaml_path.parent)
        if not persona_path.is_file():
            at(
                ("events", "persona"),
                "events.persona",
                f"{persona_ref!r} is neither a file beside the task nor a bundled persona",
            )
        else:
            psrc = load_yaml(persona_path)
            if changes is not None and isinstance(psrc.data, dict):
                psrc.data, wrong = override_persona(psrc.data, changes)
                for key, why in wrong:
                    at(("events", "persona", key), f"events.persona.{key}", why)
            persona = check_persona(psrc)
            for problem in psrc.problems:
                head = re.split(r"[.\[]", problem.field)[0]
                key = head if changes and head in changes else _SHORTHAND_FIELD.get(head)
                if changes and key in changes:
                    at(
                        ("events", "persona", key),
                        f"events.persona.{key}",
                        f"{problem.field}: {problem.message}",
                    )
                else:
                    problems.append(problem)
            tz = raw.get("timezone")
            if persona is not None and isinstance(tz, str) and persona.timezone != tz:
                at(
                    ("events", "persona"),
                    "events.persona",
                    f"{persona.name} lives in {persona.timezone}, the task's timezone is {tz}; "
                    "the generated days would not line up with the task's clock",
                )
    elif "generator" in raw_events and changes is None:
        at(
            ("events", "generator"),
            "events.generator",
            "generator settings need a persona (events.persona) to generate from",
        )

    def filled(section: str) -> Any:
        """A check section with ``{{persona.FACT}}`` filled from the (overridden) persona."""
        items = raw.get(section)
        if not isinstance(items, list) or not any("{{" in str(x) for x in items):
            return items
        if persona is None and raw_events.get("persona") is not None:
            return items  # the persona's own problems are reported
        out, wrong = fill_facts(items, persona)
        for loc, why in wrong:
            at((section, *loc), dotted((section, *loc)), why)
        return out

    checks, checks_failed = _items(CHECKS, filled("checks"), src, "checks", vctx)
    safety, _ = _items(SAFETY, filled("safety"), src, "safety", vctx)
    header = dict(raw)
    if isinstance(raw.get("checks"), list):
        header["checks"] = [c for _, c in checks]
    if isinstance(raw.get("safety"), list):
        header["safety"] = [c for _, c in safety]
    try:
        task: Task | None = Task.model_validate(header, context=vctx)
    except ValidationError as exc:
        task = None
        for problem in problems_from(exc, src):
            if problem.field == "checks" and checks_failed:
                continue  # "at least one check" only because every check was invalid
            problems.append(problem)

    if task is not None:
        expected = task.now.astimezone(zone(task.timezone))
        if task.now.utcoffset() != expected.utcoffset():
            at(
                ("now",),
                "now",
                f"offset {task.now.strftime('%z')} does not match "
                f"{task.timezone} ({expected.strftime('%z')} at that time)",
            )
        for surface in task.surfaces:
            need, ok = SURFACE_NEEDS[surface]
            if not ok(task):
                at(("surfaces",), "surfaces", f"{surface} needs {need}")

    located: list[tuple[Located, tuple, tuple, EventBase]] = []

    def facts(items: Any, file: Located, prefix: tuple) -> Any:
        """Plot data with ``{{persona.FACT}}`` filled from the (overridden) persona."""
        if persona is None or not isinstance(items, list):
            return items
        out = []
        for i, item in enumerate(items):
            done, wrong = fill_facts(item, persona)
            for loc, why in wrong:
                shown = (*prefix, i, *loc) if prefix else ("plot", i, *loc)
                at((*prefix, i, *loc), dotted(shown), why, file)
            out.append(done)
        return out

    if ctx is not None:
        plot = facts(raw_events.get("plot", []), src, ("events", "plot"))
        for loc, event in _events(plot, src, ("events", "plot"), ("events", "plot"), ctx):
            located.append((src, loc, loc, event))
        plot_file = raw_events.get("plot_file")
        if isinstance(plot_file, str):
            psrc = load_yaml(yaml_path.parent / plot_file)
            if psrc.problems and psrc.data is None:
                at(
                    ("events", "plot_file"),
                    "events.plot_file",
                    f"{plot_file}: {psrc.problems[0].message}",
                )
            else:
                for loc, event in _events(facts(psrc.data, psrc, ()), psrc, (), ("plot",), ctx):
                    located.append((psrc, loc, ("plot", *loc), event))
                problems.extend(psrc.problems)

    plot_events: list[EventBase] = []
    seen_ids: dict[str, int] = {}
    for n, (file, loc, shown, event) in enumerate(located, 1):
        label = dotted(shown)
        why = target_problem(event, devices)
        if why:
            at((*loc, "target"), f"{label}.target", why, file)
        elif event.target in devices and (why := event.device_problem(devices[event.target])):
            at((*loc, "path"), f"{label}.path", why, file)
        if isinstance(event, FilePlaced) and event.source is not None:
            event, why = _read_source(event, Path(file.file).parent)
            if why:
                at((*loc, "source"), f"{label}.source", why, file)
        if ctx is not None and event.t > ctx["now"]:
            at(
                (*loc, "t"),
                f"{label}.t",
                f"{iso(event.t)} is after now ({iso(ctx['now'])}); the stream is the past",
                file,
            )
        event_id = event.id or f"p{n:03d}"
        if event_id in seen_ids:
            at((*loc, "id"), f"{label}.id", f"duplicate event id {event_id!r}", file)
        seen_ids[event_id] = n
        plot_events.append(event.model_copy(update={"id": event_id, "tags": [*event.tags, "plot"]}))

    where = {
        e.id: (file, loc, dotted(shown))
        for e, (file, loc, shown, _) in zip(plot_events, located, strict=True)
    }
    persona_ok = persona is not None or not isinstance(raw_events.get("persona"), str | dict)
    if task is not None and persona_ok and plot_events:
        # Plot events may refer to generated ones (move a generated meeting) or clash
        # with them (a file name taken), so check them against the whole stream.
        trial = LoadedTask(
            task, yaml_path, plot_events, persona, roles.get("phone"), roles.get("laptop")
        )
        stream = trial.stream()
        for event, why in [*dangling_references(stream), *duplicate_names(stream)]:
            if event.id in where:
                file, loc, label = where[event.id]
                at((*loc, "kind"), label, why, file)

    declared = [str(n) for n in raw.get("services") or [] if isinstance(n, str)]
    # Live events read the persona's facts as plot events do ({{persona.bank.account}}).
    live_raw = facts(raw.get("live"), src, ("live",))
    live, live_problems = check_live(live_raw, src, ctx, devices, declared)
    problems.extend(live_problems)
    if live and task is not None and persona_ok:
        known = {
            e.event_id
            for e in LoadedTask(
                task, yaml_path, plot_events, persona, roles.get("phone"), roles.get("laptop")
            ).stream()
            if e.kind == "calendar.created"
        }
        for i, event in enumerate(live):
            ref = getattr(event, "event_id", None)
            if event.kind == "calendar.created":
                known.add(ref)
            elif ref is not None and ref not in known:
                at(("live", i, "event_id"), f"live[{i}].event_id", f"no calendar entry {ref!r}")
    problems.extend(live_ref_problems(task, live, src))

    for section, specs, what in (("checks", checks, "check"), ("safety", safety, "safety check")):
        ids: set[str] = set()
        for i, item in specs:
            why = _role_problem(devices, item, what)
            if why:
                at((section, i, "device"), f"{section}[{i}].device", why)
            missing = [
                n for n in needed_services(item) if task is not None and n not in task.services
            ]
            if missing:
                at(
                    (section, i, "kind"),
                    f"{section}[{i}].kind",
                    f"a {item.kind} {what} needs services: [{', '.join(missing)}] in the task",
                )
            if item.id is not None:
                if item.id in ids:
                    at((section, i, "id"), f"{section}[{i}].id", f"duplicate id {item.id!r}")
                ids.add(item.id)

    problems = sorted(set(problems))
    if problems or task is None:
        return None, problems
    task._folder = yaml_path.parent
    loaded = LoadedTask(
        task, yaml_path, plot_events, persona, roles.get("phone"), roles.get("laptop"), live
    )
    return loaded, problems


def load_task(path: Path) -> LoadedTask:
    """A task folder (or its ``task.yaml``); raises :class:`ProblemsFound` with every problem."""
    yaml_path = path / TASK_FILE if path.is_dir() else path
    loaded, problems = check_task(yaml_path)
    if loaded is None:
        raise ProblemsFound(problems or [Problem(str(yaml_path), 1, "task", "invalid")])
    return loaded
