"""``rig run``: one episode."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built


def run(
    task_dir: Path = typer.Argument(..., help="a task folder"),
    agent: str = typer.Option("oracle", help="oracle | noop | replay:PATH | openai:MODEL"),
    out: Path = typer.Option(Path("runs/latest"), help="episode folder"),
    android: str | None = typer.Option(None, help="sim | avd:NAME | attach:SERIAL"),
    linux: str | None = typer.Option(None, help="qemu | attach:USER@HOST:PORT"),
) -> None:
    raise not_built("run", "the episode runner (rig/)")
