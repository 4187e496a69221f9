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


@app.command("list")
def list_tasks(
    paths: list[Path] = typer.Argument(None, help="suites or task folders (default: tasks/suite)"),
) -> None:
    """A table of tasks: id, mode, surfaces, devices, services, step limit."""
    from rich.table import Table

    from tasks.authoring import list_rows

    suite = Path(__file__).resolve().parents[2] / "tasks" / "suite"
    rows, problems = list_rows(paths or [suite])
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("id", "mode", "surfaces", "devices", "services", "steps"):
        table.add_column(col, justify="right" if col == "steps" else "left")
    for row in rows:
        if "problems" in row:
            table.add_row(row["path"], f"invalid ({row['problems']} problems)", "", "", "", "")
        else:
            table.add_row(
                row["id"],
                row["mode"],
                row["surfaces"],
                row["devices"],
                row["services"],
                str(row["max_steps"]),
            )
    Console(highlight=False, soft_wrap=True, width=200).print(table)
    typer.echo(f"{len(rows)} tasks")
    if problems:
        _print(problems, len(rows), sum(1 for r in rows if "problems" in r))
        raise SystemExit(2)


@app.command("show")
def show(task: Path = typer.Argument(..., help="a task folder or its task.yaml")) -> None:
    """Instruction, world, checks and what the stream seeds per device and service."""
    from tasks.authoring import show_text
    from tasks.folder import TASK_FILE, check_task

    yaml_path = task / TASK_FILE if task.is_dir() else task
    loaded, problems = check_task(yaml_path)
    if loaded is None:
        _print(problems, 1, 1)
        raise SystemExit(2)
    typer.echo(show_text(loaded), nl=False)


@app.command("new")
def new(
    folder: Path = typer.Argument(..., help="the new task's folder; its name is the task id"),
    devices: str = typer.Option(
        "phone,laptop", help="roles, e.g. phone,laptop or phone:android,work:linux"
    ),
    services: str = typer.Option("", help="world services, e.g. mail,calendar"),
) -> None:
    """Write a task scaffold that validates, with a commented example of every section and
    an oracle stub that does nothing (so the task is not sound until it is written)."""
    from tasks.authoring import parse_devices, write_scaffold

    try:
        roles = parse_devices(devices)
        wanted = [s.strip() for s in services.split(",") if s.strip()]
        written = write_scaffold(folder, roles, wanted)
    except (ValueError, FileExistsError) as exc:
        Console(stderr=True, highlight=False).print(f"rig tasks new: {exc}", markup=False)
        raise SystemExit(2) from None
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: edit them, then rig tasks validate --run {folder}")
