"""``rig cache``: the world checkpoints in the cache, their size and age, and pruning."""

from __future__ import annotations

import typer

from rig.checkpoint import Store, parse_age

app = typer.Typer(no_args_is_help=True)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _age(seconds: float) -> str:
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span:
            return f"{seconds / span:.1f}{unit}"
    return f"{seconds:.0f}s"


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every world checkpoint: key, task, size, age (and why one cannot be used)."""
    store = Store.of(ctx.obj["config"])
    rows = store.entries()
    if not rows:
        typer.echo(f"no checkpoints in {store.dir}")
        return
    for row in rows:
        note = f"  CORRUPT: {row['error']}" if row.get("error") else ""
        typer.echo(
            f"{row['key']}  {row['task_id']:<40} {_size(row['size']):>10}  {_age(row['age_s'])}"
            f"{note}"
        )
    typer.echo(f"{len(rows)} checkpoints, {_size(sum(r['size'] for r in rows))} in {store.dir}")


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: str | None = typer.Option(
        None, "--older-than", help="only checkpoints older than this (90s, 30m, 12h, 7d)"
    ),
) -> None:
    """Delete world checkpoints (all of them, or those older than --older-than)."""
    age = parse_age(older_than) if older_than is not None else None
    store = Store.of(ctx.obj["config"])
    gone = store.prune(age)
    for row in gone:
        typer.echo(f"deleted {row['key']}  {row['task_id']}  {_size(row['size'])}")
    typer.echo(f"{len(gone)} checkpoints deleted, {_size(sum(r['size'] for r in gone))} freed")
