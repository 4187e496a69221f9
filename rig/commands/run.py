"""``rig run``: one episode, with a live display of the phase it is in."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from rig.agents import make_agent
from rig.commands import task_folder
from rig.episode import EpisodeResult, backend_overrides, run_episode
from rig.errors import RigError
from rig.progress import Reporter, forward_device_logs, log_to_file

EXIT_INFRA = 3
LOG_NAME = "rig.log"  # the run's whole log, beside its record


def run(
    ctx: typer.Context,
    task_dir: Path = typer.Argument(..., help="a task folder"),
    agent: str = typer.Option("oracle", help="oracle | noop | replay:PATH | openai:MODEL"),
    out: Path | None = typer.Option(
        None, help="episode folder (default: <paths.out>/<task id>-<UTC time>)"
    ),
    overwrite: bool = typer.Option(False, help="replace OUT if it already holds an episode"),
    android: str | None = typer.Option(None, help="sim | avd:NAME | attach:SERIAL"),
    linux: str | None = typer.Option(None, help="qemu | attach:USER@HOST:PORT"),
    checkpoint: bool = typer.Option(
        False,
        "--checkpoint/--fresh",
        help="restore the task's world checkpoint (built on first use) instead of seeding",
    ),
) -> None:
    """Run TASK_DIR with AGENT; writes OUT/score.json, the record and OUT/report.html.

    Exits 0 when the episode ran (pass or fail), 3 on an infrastructure error,
    2 on bad input.
    """
    config = backend_overrides(ctx.obj["config"], android, linux)
    loaded = task_folder.load(task_dir)
    if out is None:
        out = task_folder.default_out(config, loaded.task.id)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise RigError(f"{out} already holds files; pass --overwrite to replace them")
        shutil.rmtree(out)
    the_agent = make_agent(agent, loaded.path.parent, config)
    console = Console(stderr=True, soft_wrap=True)
    quiet = bool((ctx.obj or {}).get("quiet"))
    log = out / LOG_NAME
    with (
        log_to_file(log),
        Reporter(console, loaded.task.id, quiet=quiet) as progress,
        forward_device_logs(progress),
    ):
        progress("starting (the first run builds the VM image: minutes)")
        result = run_episode(loaded, the_agent, config, out, progress, checkpoint=checkpoint)
    for line in result_lines(loaded.task.id, result):
        console.print(line)
    typer.echo(f"report: {out / 'report.html'}")
    if result.infra_error or result.error:
        console.print(Text(f"log: {log}"))
    if result.infra_error:
        raise typer.Exit(EXIT_INFRA)
    if result.error:
        raise typer.Exit(2)


def result_lines(task_id: str, result: EpisodeResult) -> list[Text]:
    """The printout of an episode. Details, causes and errors hold device and agent text
    (SMS addresses, file contents, exception messages): they are literal text, never markup."""
    lines = []
    if result.infra_error:
        lines.append(Text.assemble(("INFRA ERROR", "yellow"), " ", result.infra_error))
    elif result.error:
        lines.append(Text.assemble(("ERROR", "red"), " ", result.error))
    else:
        word = ("PASS", "green") if result.passed else ("FAIL", "red")
        lines.append(
            Text.assemble(word, f" {task_id}: score {result.score:.2f} in {result.steps} steps")
        )
        for c in result.checks + result.safety:
            mark = "✓" if c["passed"] else "✗"
            lines.append(Text(f"  {mark} {c['name']}: {c['detail']}"))
    if result.agent_error:
        lines.append(Text.assemble(("AGENT ERROR", "red"), " ", result.agent_error))
    phases = ", ".join(
        f"{name} {info.get('seconds', 0):.1f}s"
        for name, info in result.phases.items()
        if isinstance(info, dict)
    )
    lines.append(Text(f"phases: {phases}"))
    if result.setup:
        how = (
            "restored from its checkpoint"
            if result.setup.get("world") == "restored"
            else ("freshly seeded")
        )
        why = f" ({result.setup['reason']})" if result.setup.get("reason") else ""
        lines.append(Text(f"world: {how} in {result.setup.get('seconds', 0):.1f}s{why}"))
    return lines
