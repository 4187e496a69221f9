"""``rig tasks``: check task folders before anything boots, and prove them sound when asked."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

app = typer.Typer(no_args_is_help=True)


def _print(problems: list, files: int, bad: int) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in problems:
        err.print(str(problem), markup=False)
    err.print(f"{len(problems)} problem(s) in {bad} of {files} task file(s)", markup=False)


@app.command("validate")
def validate(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="task folders, task.yaml files, or suites"),
    run: bool = typer.Option(
        False, "--run", help="also prove soundness on real devices: oracle passes, noop fails"
    ),
    out: Path | None = typer.Option(
        None, help="with --run: where the episodes go (default: <paths.out>/validate)"
    ),
    android: str | None = typer.Option(None, help="with --run: sim | avd:NAME | attach:SERIAL"),
    linux: str | None = typer.Option(None, help="with --run: qemu | attach:USER@HOST:PORT"),
) -> None:
    """Report every problem as file:line: field: message; exit 2 on any, else print ok.

    With --run, each valid task is then run twice (oracle, noop): exit 2 when a
    task is not sound, 3 when an infrastructure failure kept one from being judged.
    """
    from tasks.folder import check_task, find_task_files

    files, problems = find_task_files(paths)
    valid: list[tuple[Path, str]] = []
    for path in files:
        loaded, found = check_task(path)
        problems.extend(found)
        if loaded is not None:
            valid.append((path, loaded.task.id))
    if problems:
        _print(problems, len(files), len(files) - len(valid))
        # SystemExit, not typer.Exit: rig.cli.main drops a typer.Exit code (standalone_mode=False).
        raise SystemExit(2)
    if not run:
        typer.echo(f"ok: {len(valid)} tasks")
        return
    _soundness(ctx, valid, out, android, linux)


def _soundness(
    ctx: typer.Context,
    valid: list[tuple[Path, str]],
    out: Path | None,
    android: str | None,
    linux: str | None,
) -> None:
    from rig.episode import backend_overrides
    from rig.soundness import check_soundness
    from tasks.loader import Problem

    config = backend_overrides(ctx.obj["config"], android, linux)
    root = out or config.paths.out / "validate"
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    problems: list[Problem] = []
    infra = False
    for path, task_id in valid:
        with console.status(Text(f"{task_id}: running oracle and noop")):
            verdict = check_soundness(path, config, root / task_id)
        if verdict.sound:
            typer.echo(f"sound: {task_id}")
            continue
        infra = infra or bool(verdict.oracle.infra_error or verdict.noop.infra_error)
        problems += [Problem(str(path), 1, "soundness", p) for p in verdict.problems()]
    if problems:
        _print(problems, len(valid), len({p.file for p in problems}))
        console.print(f"episodes: {root}", markup=False)
        raise SystemExit(3 if infra else 2)
    typer.echo(f"ok: {len(valid)} tasks, all sound (episodes: {root})")
