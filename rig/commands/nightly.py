"""``rig nightly run``, ``rig suite compare`` and ``rig suite replay``.

Exit codes follow the rig's (0 fine, 2 bad input, 3 infrastructure) plus 1: a
significant regression or a newly unsound task, so that cron and CI can gate on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from rig.config import check_ray_address
from rig.errors import RigError
from tasks.loader import ProblemsFound

EXIT_REGRESSED = 1

app = typer.Typer(no_args_is_help=True)


def _verdict(row: dict[str, Any]) -> str:
    if row.get("infra_error"):
        return "infra"
    if row.get("error"):
        return "error"
    return "pass" if row.get("passed") else "fail"


@app.command("run")
def run(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="nightly config (TOML)", dir_okay=False),
    date: str | None = typer.Option(
        None, help="night to run or resume, YYYY-MM-DD [default: the unfinished one, else today]"
    ),
) -> None:
    """Soundness pass, every agent, replay, compare with the last complete night, history.
    Resumes an interrupted night. Exit 1 when anything regressed or became unsound."""
    from rig.compare import print_report
    from rig.nightly import run_night

    console = Console(stderr=True, soft_wrap=True)

    def on_result(tag: str, row: dict[str, Any]) -> None:
        console.print(Text(f"{tag}: {row['task_id']} #{row['trial']}: {_verdict(row)}"))

    try:
        data = run_night(
            config,
            ctx.obj["config"],
            date,
            say=lambda m: console.print(Text(m)),
            on_result=on_result,
            print_compare=lambda report: print_report(report, console),
        )
    except ProblemsFound as exc:
        raise RigError(f"the nightly suite holds invalid tasks:\n{exc}") from None
    for reason in data.get("reasons", []):
        console.print(Text(f"REGRESSED: {reason}", style="bold red"))
    typer.echo(f"night: {data['night']} ({'regressed' if data['regressed'] else 'no regression'})")
    typer.echo(f"index: {Path(data['folder']) / 'index.html'}")
    if data["regressed"]:
        raise typer.Exit(EXIT_REGRESSED)


def compare(
    old: Path = typer.Argument(..., help="the earlier run folder", file_okay=False),
    new: Path = typer.Argument(..., help="the later run folder", file_okay=False),
    out: Path | None = typer.Option(
        None, help="write compare.json and compare.html here [default: NEW/compare]"
    ),
    alpha: float = typer.Option(0.05, min=1e-6, max=0.5, help="significance level"),
    phase_ratio: float = typer.Option(
        0.5, min=0.0, help="a phase regressed when its median grew by more than this share"
    ),
    phase_min_seconds: float = typer.Option(
        1.0, min=0.0, help="... and by more than this many seconds"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the JSON instead of tables"),
) -> None:
    """Pass rate and pass^k per task and overall with intervals, exact tests, flips, new
    infra errors, slower phases. Exit 1 on a significant regression or a newly unsound task."""
    from rig.compare import Thresholds, compare_folders, print_report, render_html
    from rig.recorder import write_json

    report = compare_folders(old, new, Thresholds(alpha, phase_ratio, phase_min_seconds))
    target = out if out is not None else new / "compare"
    write_json(target / "compare.json", report)
    (target / "compare.html").write_text(render_html(report), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report, Console(soft_wrap=True))
        typer.echo(f"json: {target / 'compare.json'}\nhtml: {target / 'compare.html'}")
    if report["regressed"]:
        raise typer.Exit(EXIT_REGRESSED)


def replay(
    ctx: typer.Context,
    run_dir: Path = typer.Argument(..., help="a suite run folder", file_okay=False),
    times: int = typer.Option(1, min=1, max=20, help="replays per recorded trial"),
    threshold: float = typer.Option(
        0.0, min=0.0, max=0.99, help="flag a task when more than this share of replays differ"
    ),
    workers: int | None = typer.Option(None, min=1, help="parallel worlds [default: 1]"),
    retries: int = typer.Option(1, min=0, help="reruns of a replay that hit an infra error"),
    ray: str | None = typer.Option(None, help="Ray cluster: auto | HOST:PORT | local"),
    ray_cpus: float | None = typer.Option(None, min=0.01, help="CPUs each replay reserves"),
) -> None:
    """Replay every recorded trajectory of RUN on fresh worlds; per task, how often the
    same actions scored differently (flagged tasks go into replay.json and the index)."""
    from rig.flaky import replay_run

    if ray is not None:
        try:
            check_ray_address(ray)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--ray'") from None
    console = Console(stderr=True, soft_wrap=True)

    def on_result(row: dict[str, Any]) -> None:
        same = row.get("score") == row.get("recorded_score")
        what = (
            _verdict(row)
            if row.get("infra_error") or row.get("error")
            else (
                "same score" if same else f"score {row.get('recorded_score')} -> {row.get('score')}"
            )
        )
        console.print(Text(f"{row['task_id']} #{row['trial']} replay {row['round']}: {what}"))

    summary = replay_run(
        run_dir, ctx.obj["config"], times, threshold, workers, ray, ray_cpus, retries, on_result
    )
    for task, entry in sorted(summary["tasks"].items()):
        flag = "  FLAKY" if entry["flagged"] else ""
        console.print(
            Text(f"{task}: {entry['differ']}/{entry['replays']} replays differ{flag}"),
            style="bold red" if flag else "",
        )
    for line in summary["skipped"]:
        console.print(Text(f"skipped: {line}"))
    typer.echo(f"replay: {run_dir / 'replay.json'}")
