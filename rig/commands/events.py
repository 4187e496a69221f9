"""``rig events``: event streams."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)


@app.command("generate")
def generate(
    persona: Path = typer.Option(..., help="persona YAML"),
    days: int = typer.Option(92, help="days of activity before now"),
    seed: int = typer.Option(0, help="RNG seed"),
    out: Path = typer.Option(..., help="output stream file"),
) -> None:
    """Generate a deterministic stream of simulated activity."""
    raise not_built("events generate", "the event-stream generator (tasks/)")


@app.command("stats")
def stats(stream: Path = typer.Argument(..., help="a stream file")) -> None:
    """Counts by kind and target, time span, word count."""
    raise not_built("events stats", "the event-stream generator (tasks/)")
