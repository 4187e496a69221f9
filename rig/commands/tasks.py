"""``rig tasks``: check task folders before anything boots."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)


@app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(..., help="task folders, task.yaml files, or suites"),
    run: bool = typer.Option(
        False, "--run", help="also prove soundness: oracle passes, noop fails"
    ),
) -> None:
    """Report every problem as file:line: field: message; exit 2 on any, else print ok."""
    from tasks.folder import check_task, find_task_files

    if run:
        raise not_built(
            "tasks validate --run", "the episode runner (rig/); plain `rig tasks validate` works"
        )
    files, problems = find_task_files(paths)
    valid = 0
    for path in files:
        loaded, found = check_task(path)
        problems.extend(found)
        valid += loaded is not None
    if problems:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in problems:
            err.print(str(problem), markup=False)
        bad = len(files) - valid
        err.print(f"{len(problems)} problem(s) in {bad} of {len(files)} task file(s)", markup=False)
        # SystemExit, not typer.Exit: rig.cli.main drops a typer.Exit code (standalone_mode=False).
        raise SystemExit(2)
    typer.echo(f"ok: {valid} tasks")
