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


@app.command("schema")
def schema(
    as_json: bool = typer.Option(False, "--json", help="the JSON Schema instead of the table"),
) -> None:
    """Print every rig.toml key with its type, default and meaning (from the models)."""
    from rig.config import RigConfig
    from rig.config_reference import reference_markdown

    if as_json:
        typer.echo(json.dumps(RigConfig.model_json_schema(), indent=2))
    else:
        typer.echo(reference_markdown(), nl=False)
