"""``rig vm``: Linux VMs booted by QEMU — build the image, run commands on throwaway VMs."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

# Bad input is a ValueError (exit 2 via rig.cli.main); typer's vendored click errors are not
# recognised there.
from linux_vm.errors import LinuxInputError

app = typer.Typer(no_args_is_help=True)
image_app = typer.Typer(no_args_is_help=True)
app.add_typer(image_app, name="image", help="The cached Debian base image.")

_err = Console(stderr=True, highlight=False)


def _progress(quiet: bool = False):
    def say(msg: str) -> None:
        if not quiet:
            _err.print(Text(msg, style="dim"))

    return say


@image_app.command("build")
def image_build(
    ctx: typer.Context,
    name: str = typer.Option("bookworm", "--name", help="image name"),
    force: bool = typer.Option(False, "--force", help="rebuild even if it is cached"),
) -> None:
    """Build (or reuse) the Debian base image under the cache directory."""
    from linux_vm.image import build_image, find_image

    cache = ctx.obj["config"].paths.cache
    existing = None if force else find_image(cache, name)
    if existing is not None:
        _err.print(f"image {name!r} is already built", markup=False)
        typer.echo(existing.path)
        return
    image = build_image(cache, name, progress=_progress(), force=force)
    m = image.manifest
    _err.print(f"built in {m['build_seconds']} s (kernel {m['kernel']})")
    typer.echo(image.path)


@image_app.command("prune")
def image_prune(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would go, delete nothing"),
) -> None:
    """Delete images of older recipes and snapshots no current image can restore."""
    from linux_vm.snapshot import prune_cache, stale_cache

    cache = ctx.obj["config"].paths.cache
    found = stale_cache(cache) if dry_run else prune_cache(cache)
    for path, size in found:
        typer.echo(f"{'would remove' if dry_run else 'removed'} {path} ({size / 1e6:.0f} MB)")
    total = sum(size for _path, size in found) / 1e6
    _err.print(f"{len(found)} stale entries, {total:.0f} MB" + (" (dry run)" if dry_run else ""))


@contextlib.contextmanager
def _throwaway_vm(ctx: typer.Context, accel: str | None, quiet: bool) -> Iterator:
    """A VM for one command; stopped and deleted on exit, on Ctrl-C and on SIGTERM."""
    from linux_vm.backends import QemuBackend

    cfg = ctx.obj["config"]
    backend = QemuBackend(cfg.backend_config("linux"), accel=accel, progress=_progress(quiet))

    def _term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _term)
    from hostproc.labels import write_owner

    workdir = Path(tempfile.mkdtemp(prefix="clawrig-vm-"))
    write_owner(workdir)  # a killed CLI's leftovers are removed by the next reaper run
    device = None
    try:
        device = backend.acquire("vm", workdir)
        yield device
    finally:
        if device is not None:
            backend.release(device)
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def _check_accel(accel: str) -> str | None:
    if accel not in ("auto", "kvm", "tcg"):
        raise LinuxInputError(f"--accel {accel!r}: expected auto, kvm or tcg")
    return None if accel == "auto" else accel


@app.command(
    "exec",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def exec_(
    ctx: typer.Context,
    accel: str = typer.Option("auto", "--accel", help="auto | kvm | tcg"),
    timeout: float = typer.Option(600.0, "--timeout", help="seconds before CMD is killed"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress lines"),
) -> None:
    """Boot a throwaway VM, run CMD over SSH, print its output, exit with its code.

    One argument is run as shell text (`rig vm exec -- 'ls | wc -l'`); several are
    quoted as separate words (`rig vm exec -- ls -la /tmp`).
    """
    words = list(ctx.args)
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        raise LinuxInputError("give the command after --, e.g. rig vm exec -- uname -a")
    command = words[0] if len(words) == 1 else shlex.join(words)
    chosen = _check_accel(accel)
    with _throwaway_vm(ctx, chosen, quiet) as device:
        result = device.exec(command, timeout=timeout, output_cap=1 << 30)
    sys.stdout.buffer.write(result.stdout_bytes)
    sys.stdout.flush()
    sys.stderr.buffer.write(result.stderr_bytes)
    sys.stderr.flush()
    # sys.exit, not typer.Exit: rig.cli.main runs click with standalone_mode=False.
    sys.exit(result.exit_code)


@app.command("shell")
def shell(
    ctx: typer.Context,
    accel: str = typer.Option("auto", "--accel", help="auto | kvm | tcg"),
) -> None:
    """Open an interactive shell on a throwaway VM (deleted when the shell exits)."""
    ssh = shutil.which("ssh")
    if ssh is None:
        raise LinuxInputError("`rig vm shell` needs the OpenSSH client (`ssh`) on PATH")
    chosen = _check_accel(accel)
    with _throwaway_vm(ctx, chosen, quiet=False) as device:
        key = device.session.key_path
        _err.print(f"VM up ({device.boot.mode}, {device.boot.seconds:.1f} s); exit to discard it")
        code = subprocess.call(
            [
                ssh,
                "-t",
                "-i",
                str(key),
                "-p",
                str(device.ssh_port),
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "IdentitiesOnly=yes",
                f"{device.session.user}@127.0.0.1",
            ]
        )
    sys.exit(code)
