"""``rig config``: what configuration is in force, and from where."""

from __future__ import annotations

import json

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the effective configuration as JSON, and the file it came from."""
    cfg = ctx.obj["config"]
    typer.echo(f"# from: {cfg.source or 'built-in defaults'}", err=True)
    typer.echo(json.dumps(cfg.model_dump(mode="json"), indent=2))
