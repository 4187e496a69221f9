"""``rig mcp``: the MCP front end."""

from __future__ import annotations

from pathlib import Path

import typer

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)


@app.command("serve")
def serve(
    task_dir: Path = typer.Argument(..., help="the task whose world to expose"),
    http: bool = typer.Option(False, help="streamable HTTP on loopback instead of stdio"),
    port: int = typer.Option(8765, help="HTTP port (loopback only)"),
) -> None:
    """Expose a task's world as MCP tools."""
    raise not_built("mcp serve", "the agent interface (rig/)")
