"""``rig view``: the static HTML report of an episode (or a suite), optionally served."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import typer

from rig.errors import RigError
from rig.report.animate import write_gif
from rig.report.compare import write_compare
from rig.viewer import load_steps, write_report


def view(
    run_dir: Path = typer.Argument(..., help="an episode folder (or a suite folder)"),
    serve: bool = typer.Option(False, help="also serve the folder on 127.0.0.1"),
    port: int = typer.Option(0, help="port for --serve (0: any free port)"),
    compare: Path | None = typer.Option(
        None, "--compare", help="a second episode: write RUN_DIR/compare.html, side by side"
    ),
    animate: bool = typer.Option(False, help="also write RUN_DIR/replay.gif of the screens"),
    device: str | None = typer.Option(None, help="the device role for --animate (default: all)"),
) -> None:
    """Write RUN_DIR/report.html; with --serve, serve RUN_DIR on loopback until Ctrl-C."""
    if not run_dir.is_dir():
        raise RigError(f"{run_dir}: no such folder")
    if (run_dir / "index.html").is_file() and not (run_dir / "episode.json").is_file():
        page = run_dir / "index.html"
    else:
        page = write_report(run_dir)
    typer.echo(f"report: {page}")
    if compare is not None:
        if not compare.is_dir():
            raise RigError(f"{compare}: no such folder")
        write_report(compare)
        page = write_compare(run_dir, compare)
        typer.echo(f"compare: {page}")
    if animate:
        gif = write_gif(run_dir, load_steps(run_dir), run_dir / "replay.gif", device)
        typer.echo(f"replay: {gif}")
    if not serve:
        return
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(run_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    host, bound = server.server_address[:2]
    typer.echo(f"serving on http://{host}:{bound}/{page.name}  (Ctrl-C to stop)")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
