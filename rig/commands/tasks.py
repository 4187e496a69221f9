"""``rig tasks``: task folders."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)


@app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(..., help="task folders or task.yaml files"),
    run: bool = typer.Option(
        False, "--run", help="also prove soundness: oracle passes, noop fails"
    ),
) -> None:
    """Report every problem as file:line: field: message."""
    raise not_built("tasks validate", "the task format (tasks/)")
