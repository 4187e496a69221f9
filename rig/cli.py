"""The ``rig`` command line: one group per part of the design, assembled here.

Exit codes: 0 success (an episode that ran, pass or fail), 2 bad input (config,
task, arguments, a backend that is not available here), 3 an infrastructure failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from rig.commands import cache as cache_cmd
from rig.commands import config as config_cmd
from rig.commands import doctor, events, mcp, nightly, phone, run, suite, view, vm, world
from rig.commands import tasks as tasks_cmd
from rig.config import load_config
from rig.errors import ConfigInvalid, NotBuiltYet, RigError, is_infra
from rig.progress import setup_logging

EXIT_BAD_INPUT = 2
EXIT_INFRA = 3

app = typer.Typer(
    name="rig",
    help="clawrig: bring up worlds of Android phones and Linux VMs, seed them, "
    "let an agent act, and score the devices' real state.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="rig.toml to use (default: ./rig.toml, then $XDG_CONFIG_HOME/clawrig/rig.toml)",
        dir_okay=False,
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="log what happens (-vv: debug detail) to stderr"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress display, errors only"),
) -> None:
    setup_logging(verbose, quiet)
    ctx.obj = {"config_path": config, "verbose": verbose, "quiet": quiet}
    # Validate eagerly so a broken config is reported before any work starts.
    ctx.obj["config"] = load_config(config)


app.add_typer(phone.app, name="phone", help="Android phones: serve a virtual phone for adb.")
app.add_typer(vm.app, name="vm", help="Linux VMs: build the image, run commands on throwaway VMs.")
app.command("run", help="Run one task end to end and score it.")(run.run)
app.add_typer(tasks_cmd.app, name="tasks", help="Task folders: validate them, prove them sound.")
app.add_typer(events.app, name="events", help="Event streams: generate months of activity, stats.")
app.add_typer(suite.app, name="suite", help="Suites: many tasks x trials across workers.")
app.add_typer(
    nightly.app, name="nightly", help="Nightly runs: soundness, agents, compare, history."
)
app.command("view", help="Write (and serve) the HTML report of an episode or suite.")(view.view)
app.add_typer(mcp.app, name="mcp", help="MCP server exposing a task's world to agent harnesses.")
app.add_typer(config_cmd.app, name="config", help="Show the effective configuration and every key.")
app.add_typer(world.app, name="world", help="A task's world up and seeded, for a person.")
app.add_typer(cache_cmd.app, name="cache", help="World checkpoints in the cache: list, prune.")
app.command(
    "doctor",
    help="Check what this machine can run (adb, QEMU, KVM, SDK); with --android/--linux, "
    "run the conformance battery on a device (it writes test data there).",
)(doctor.doctor)


def main(argv: list[str] | None = None) -> None:
    """Entry point: turn the rig's typed errors into one clear line and an exit code.

    Messages carry device and agent text, so they are printed as literal ``Text``, never
    parsed as Rich markup (``[/]`` in a message would otherwise crash the printout).
    """
    err = Console(stderr=True, soft_wrap=True)
    try:
        # With standalone_mode=False click returns a command's exit code instead of raising.
        code = app(args=argv, standalone_mode=False)
    except SystemExit:
        raise
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except (NotBuiltYet, ConfigInvalid) as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # the last line of defence for users
        # Usage errors: typer bundles its own click, so match click's shape, not its class.
        if callable(getattr(exc, "show", None)) and isinstance(
            getattr(exc, "exit_code", None), int
        ):
            exc.show()
            sys.exit(exc.exit_code)
        if is_infra(exc):
            err.print(Text.assemble(("infrastructure error:", "red"), f" {exc}"))
            sys.exit(EXIT_INFRA)
        if isinstance(exc, RigError | ValueError | FileNotFoundError):
            err.print(Text.assemble(("error:", "red"), f" {exc}"))
            sys.exit(EXIT_BAD_INPUT)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
