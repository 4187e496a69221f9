"""``rig suite``: many tasks, many trials, with a live progress display."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from rig.commands.nightly import compare, replay
from rig.config import check_ray_address
from rig.episode import backend_overrides
from rig.errors import RigError
from tasks.loader import ProblemsFound

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    suite_dir: Path = typer.Argument(..., help="folder of task folders"),
    agent: str = typer.Option("oracle", help="oracle | noop | replay:PATH | openai:MODEL"),
    trials: int = typer.Option(1, min=1, help="trials per task (k)"),
    workers: int | None = typer.Option(
        None, min=1, help="parallel worlds [default: 1; on Ray: cluster CPUs / --ray-cpus]"
    ),
    out: Path = typer.Option(Path("runs/suite"), help="results folder"),
    resume: bool = typer.Option(False, help="skip finished trials, rerun infra errors"),
    retries: int = typer.Option(1, min=0, help="reruns of a trial that hit an infra error"),
    android: str | None = typer.Option(None, help="sim | avd:NAME | attach:SERIAL"),
    linux: str | None = typer.Option(None, help="qemu | attach:USER@HOST:PORT"),
    ray: str | None = typer.Option(
        None,
        help="Ray cluster for the trials: auto | HOST:PORT | local (default: rig.toml suite.ray)",
    ),
    ray_cpus: float | None = typer.Option(
        None, min=0.01, help="CPUs each trial reserves on Ray [default: 1]"
    ),
    fresh: bool = typer.Option(
        False,
        "--fresh",
        help="seed every trial's world fresh (default: with --trials > 1, later trials "
        "restore the world checkpoint the first one saved)",
    ),
) -> None:
    """Run every task TRIALS times across WORKERS processes (or a Ray cluster); writes
    summary.json, trials.csv, junit.xml and index.html under OUT."""
    from rig.suite import run_suite

    config = backend_overrides(ctx.obj["config"], android, linux)
    if ray is not None:
        try:
            check_ray_address(ray)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--ray'") from None
    console = Console(stderr=True, soft_wrap=True)
    counts = {"pass": 0, "fail": 0, "infra": 0, "error": 0}
    columns = (
        TextColumn("[bold]suite"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    quiet = bool((ctx.obj or {}).get("quiet"))
    with Progress(*columns, console=console, disable=quiet) as progress:
        bar = progress.add_task("suite", total=None, counts="")

        def on_result(row: dict, finished: int, total: int) -> None:
            key = (
                "infra"
                if row.get("infra_error")
                else "error"
                if row.get("error")
                else "pass"
                if row.get("passed")
                else "fail"
            )
            counts[key] += 1
            text = " ".join(f"{k} {v}" for k, v in counts.items())
            progress.update(bar, completed=finished, total=total, counts=text)
            if not quiet:
                line = f"{row['task_id']} #{row['trial']}: {key}"
                if row.get("agent_error"):
                    line += f" (agent error: {row['agent_error']})"
                progress.console.print(Text(line))

        try:
            summary = run_suite(
                suite_dir,
                agent,
                config,
                out,
                trials,
                workers,
                resume,
                retries,
                on_result,
                ray=ray,
                ray_cpus=ray_cpus,
                checkpoint=False if fresh else None,
            )
        except ProblemsFound as exc:
            raise RigError(f"{suite_dir} holds invalid tasks:\n{exc}") from None
    pass_at = ", ".join(f"pass@{k}={v:.3f}" for k, v in summary["pass_at_k"].items())
    console.print(
        f"{summary['trials']} trials, {summary['passed']} passed, {summary['infra_errors']} infra "
        f"errors, {summary['errors']} not judged (rig or task error); {pass_at}",
        markup=False,
        highlight=False,
    )
    for e in summary.get("error_trials", []):
        console.print(
            f"not judged: {e['task_id']} #{e['trial']}: {e['error']}", markup=False, highlight=False
        )
    typer.echo(f"summary: {out / 'summary.json'}\nindex: {out / 'index.html'}")


# Night-to-night comparison and replay live beside the nightly (rig.commands.nightly).
app.command("compare")(compare)
app.command("replay")(replay)
