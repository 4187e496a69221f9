"""``rig phone``: the virtual phone and Android devices."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("serve")
def serve(
    ctx: typer.Context,
    adb_port: int = typer.Option(5555, help="TCP port the adb server connects to (0: free)"),
    console_port: int = typer.Option(5554, help="emulator-console port (0: free)"),
    state_dir: Path | None = typer.Option(
        None, help="where the phone keeps its whole state (default: under the cache dir)"
    ),
    size: str | None = typer.Option(None, help="screen size WxH in pixels (default 1080x2400)"),
    density: int | None = typer.Option(None, help="screen density in dpi (default 420)"),
    console_token_file: Path | None = typer.Option(
        None, help="console auth token file (default ~/.emulator_console_auth_token)"
    ),
) -> None:
    """Run one virtual phone in the foreground until SIGINT/SIGTERM.

    Prints the adb serial first; connect with ``adb connect SERIAL``.
    """
    from emulator.sim.phone import Phone, serve_forever

    cfg = (ctx.obj or {}).get("config")
    if state_dir is None:
        cache = cfg.paths.cache if cfg is not None else Path.home() / ".cache" / "clawrig"
        state_dir = Path(cache).expanduser() / "sim" / f"phone-{adb_port}"
    if size is None and cfg is not None:
        size = cfg.android.sim.size
    if density is None and cfg is not None:
        density = cfg.android.sim.density
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    phone = Phone(
        state_dir,
        adb_port=adb_port,
        console_port=console_port,
        size=size,
        density=density,
        console_token_path=console_token_file,
    )
    serve_forever(phone, out=lambda line: print(line, flush=True))
