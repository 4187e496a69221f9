"""``rig events``: generate event streams from personas and summarise them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

app = typer.Typer(no_args_is_help=True)

# A fixed default "now" keeps `generate` reproducible: same arguments, same bytes, any day.
DEFAULT_NOW = "2026-03-16T09:00:00"


def _fail(problems: object) -> SystemExit:
    """Print each problem on its own line; exit 2 (bad input).

    ``SystemExit`` rather than ``typer.Exit``: ``rig.cli.main`` runs the app with
    ``standalone_mode=False``, where a ``typer.Exit`` code is returned, not raised,
    and would be lost.
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in getattr(problems, "problems", [problems]):
        err.print(str(problem), markup=False)
    return SystemExit(2)


@app.command("generate")
def generate(
    persona: Path | None = typer.Option(
        None, help="persona YAML, or the name of a bundled persona"
    ),
    task: Path | None = typer.Option(
        None,
        help="a task folder: write its whole stream (its persona and generator settings, "
        "merged with its plot events) instead",
    ),
    days: int = typer.Option(92, min=1, max=3660, help="days of activity before now"),
    seed: int = typer.Option(0, help="RNG seed"),
    out: Path = typer.Option(..., help="output stream file (JSONL)"),
    now: str = typer.Option(
        DEFAULT_NOW, help="the frozen now, ISO 8601; without an offset, in the persona's timezone"
    ),
    density: float = typer.Option(1.0, min=0.0, max=10.0, help="scales everyday activity"),
    noise: float = typer.Option(1.0, min=0.0, max=10.0, help="scales newsletters, spam, dupes"),
    conflicts: int = typer.Option(4, min=0, max=100, help="contradicting signals to plant"),
    phone: str = typer.Option("phone", help="role name of the Android device ('' for none)"),
    laptop: str = typer.Option("laptop", help="role name of the Linux device ('' for none)"),
) -> None:
    """Generate a deterministic stream of simulated activity (same inputs, same bytes)."""
    from tasks.generator import GeneratorSettings
    from tasks.generator import generate as run_generator
    from tasks.loader import ProblemsFound
    from tasks.persona import load_persona, resolve_persona_path
    from tasks.times import TimeInvalid, resolve

    if (persona is None) == (task is None):
        raise _fail("give exactly one of --persona FILE or --task DIR")
    if task is not None:
        from tasks.folder import load_task

        try:
            loaded = load_task(task)
        except ProblemsFound as exc:
            raise _fail(exc) from None
        _write(lambda step: loaded.stream(step), out, f"task {loaded.task.id}")
        return
    try:
        who = load_persona(resolve_persona_path(str(persona)))
        frozen = resolve(now, datetime(2000, 1, 1).astimezone(), who.timezone)
    except ProblemsFound as exc:
        raise _fail(exc) from None
    except TimeInvalid as exc:
        raise _fail(f"--now: {exc}") from None
    settings = GeneratorSettings(
        days=days, seed=seed, density=density, noise=noise, conflicts=conflicts
    )
    _write(
        lambda step: run_generator(who, settings, frozen, phone or None, laptop or None, step),
        out,
        f"{who.name}, seed {seed}",
    )


def _write(make: Callable[[Any], list[Any]], out: Path, what: str) -> None:
    """Run ``make`` under a progress bar, write the stream, print a one-line summary."""
    from tasks.stream import stats, write_stream

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        bar_task = bar.add_task("generating", total=1)

        def step(name: str, i: int, n: int) -> None:
            what = escape(f"generating: {name}")
            bar.update(bar_task, description=what, completed=i, total=n + 1)

        events = make(step)
        bar.update(bar_task, description=escape(f"writing {out}"))
        size = write_stream(events, out)
    s = stats(events)
    span = f"{s.first:%Y-%m-%d} .. {s.last:%Y-%m-%d}" if s.first and s.last else "empty"
    typer.echo(f"wrote {out}: {s.events} events, {s.words} words, {size} bytes, {span} ({what})")


@app.command("stats")
def stats_cmd(
    stream: Path = typer.Argument(..., help="a stream file (JSONL)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Counts by kind and target, time span, word count."""
    from tasks.loader import ProblemsFound
    from tasks.stream import read_stream, stats

    try:
        events = read_stream(stream)
    except ProblemsFound as exc:
        raise _fail(exc) from None
    s = stats(events)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "events": s.events,
                    "words": s.words,
                    "first": s.first.isoformat() if s.first else None,
                    "last": s.last.isoformat() if s.last else None,
                    "span_days": round(s.span_days, 3),
                    "by_kind": dict(sorted(s.by_kind.items())),
                    "by_target": dict(sorted(s.by_target.items())),
                    "by_tag": dict(sorted(s.by_tag.items())),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    console = Console()
    console.print(Text.assemble((str(stream), "bold"), f": {s.events} events, {s.words} words"))
    if s.first and s.last:
        console.print(
            f"time span: {s.first.isoformat()} .. {s.last.isoformat()} ({s.span_days:.1f} days)"
        )
    kinds = Table("kind", "events", "words", title="by kind")
    for kind, n in sorted(s.by_kind.items()):
        kinds.add_row(Text(kind), str(n), str(s.words_by_kind[kind]))
    console.print(kinds)
    targets = Table("target", "events", title="by target")
    for target, n in sorted(s.by_target.items()):
        targets.add_row(Text(target), str(n))
    console.print(targets)
    if s.by_tag:
        console.print(Text("tags: " + ", ".join(f"{t} {n}" for t, n in sorted(s.by_tag.items()))))
