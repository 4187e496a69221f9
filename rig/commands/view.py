"""``rig view``: the static HTML report of an episode (or a suite), optionally served."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import typer

from rig.errors import RigError
from rig.viewer import write_report


def view(
    run_dir: Path = typer.Argument(..., help="an episode folder (or a suite folder)"),
    serve: bool = typer.Option(False, help="also serve the folder on 127.0.0.1"),
    port: int = typer.Option(0, help="port for --serve (0: any free port)"),
) -> None:
    """Write RUN_DIR/report.html; with --serve, serve RUN_DIR on loopback until Ctrl-C."""
    if not run_dir.is_dir():
        raise RigError(f"{run_dir}: no such folder")
    if (run_dir / "index.html").is_file() and not (run_dir / "episode.json").is_file():
        page = run_dir / "index.html"
    else:
        page = write_report(run_dir)
    typer.echo(f"report: {page}")
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
