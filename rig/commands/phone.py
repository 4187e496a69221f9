"""``rig phone``: the virtual phone and Android devices."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)


@app.command("serve")
def serve(
    adb_port: int = typer.Option(5555, help="TCP port the adb server connects to"),
    console_port: int = typer.Option(5554, help="emulator-console port"),
    state_dir: Path | None = typer.Option(None, help="where the phone keeps its whole state"),
    size: str = typer.Option("1080x2400", help="screen size WxH in pixels"),
    density: int = typer.Option(420, help="screen density in dpi"),
) -> None:
    """Run one virtual phone in the foreground until SIGINT/SIGTERM."""
    raise not_built("phone serve", "the virtual phone (emulator/sim)")
