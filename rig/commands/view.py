"""``rig view``: the static HTML report."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built


def view(
    run_dir: Path = typer.Argument(..., help="an episode or suite folder"),
    serve: bool = typer.Option(False, help="also serve it on loopback"),
) -> None:
    raise not_built("view", "the recorder and viewer (rig/)")
