"""``rig vm``: Linux VMs booted by QEMU."""

from __future__ import annotations

import typer

from rig.commands.pending import not_built

app = typer.Typer(no_args_is_help=True)
image_app = typer.Typer(no_args_is_help=True)
app.add_typer(image_app, name="image", help="The cached Debian base image.")


@image_app.command("build")
def image_build(name: str = typer.Option("bookworm", help="image name")) -> None:
    """Build (or reuse) the Debian base image."""
    raise not_built("vm image build", "the Linux VM layer (linux_vm)")


@app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(ctx: typer.Context) -> None:
    """Boot a throwaway VM, run a command over SSH, print its output, exit with its code."""
    raise not_built("vm exec", "the Linux VM layer (linux_vm)")


@app.command("shell")
def shell() -> None:
    """Open an interactive shell on a throwaway VM."""
    raise not_built("vm shell", "the Linux VM layer (linux_vm)")
