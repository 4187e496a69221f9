"""``rig suite``: many tasks, many trials."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run(
    suite_dir: Path = typer.Argument(..., help="folder of task folders"),
    agent: str = typer.Option("oracle", help="oracle | noop | replay:PATH | openai:MODEL"),
    trials: int = typer.Option(1, help="trials per task (k)"),
    workers: int = typer.Option(1, help="parallel worlds"),
    out: Path = typer.Option(Path("runs/suite"), help="results folder"),
    resume: bool = typer.Option(False, help="skip finished trials, rerun infra errors"),
) -> None:
    """Run every task K times across N workers."""
    raise not_built("suite run", "the episode runner (rig/)")
