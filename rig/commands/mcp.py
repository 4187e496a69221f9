"""``rig mcp``: the MCP front end (see :mod:`rig.mcp_server`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from rig.commands import task_folder
from rig.episode import backend_overrides
from rig.errors import RigError

app = typer.Typer(no_args_is_help=True)
EXIT_INFRA = 3


@app.command("serve")
def serve(
    ctx: typer.Context,
    task_dir: Path = typer.Argument(..., help="the task whose world to expose"),
    http: bool = typer.Option(False, help="streamable HTTP on 127.0.0.1 instead of stdio"),
    port: int = typer.Option(8765, min=1, max=65535, help="HTTP port (loopback only)"),
    token: str | None = typer.Option(
        None,
        envvar="CLAWRIG_MCP_TOKEN",
        help="bearer token HTTP clients must send (default: a random one, printed to stderr)",
    ),
    idle_timeout: float = typer.Option(
        600.0, min=1.0, help="HTTP: score the episode after this many seconds with no request"
    ),
    out: Path | None = typer.Option(None, help="episode folder (default: runs/mcp-TIMESTAMP)"),
    android: str | None = typer.Option(None, help="sim | avd:NAME | attach:SERIAL"),
    linux: str | None = typer.Option(None, help="qemu | attach:USER@HOST:PORT"),
) -> None:
    """Bring TASK_DIR's world up and expose every action as an MCP tool.

    stdio by default (stdout is the protocol; progress goes to stderr). The
    episode is scored when the client calls finish or disconnects; the record
    goes to OUT. Exits 0 when the episode ran, 3 on an infrastructure error.
    """
    from rig.mcp_server import serve as serve_mcp

    config = backend_overrides(ctx.obj["config"], android, linux)
    if token is not None and len(token) < 16:
        raise RigError("--token must be at least 16 characters (or leave it out for a random one)")
    loaded = task_folder.load(task_dir)
    if out is None:
        out = Path("runs") / f"mcp-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    result = serve_mcp(
        loaded, config, out, http=http, port=port, token=token, idle_timeout=idle_timeout
    )
    if result.infra_error:
        raise typer.Exit(EXIT_INFRA)
