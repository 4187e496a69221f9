"""``rig world up TASK``: a task's world, up and seeded, handed to a person.

Prints one JSON object on stdout — ``{"task", "devices": {ROLE: {...}},
"services": {NAME: {...}}}`` with, per Android device, its ``serial``; per Linux
device, ``ssh`` (``user@127.0.0.1:PORT``) and ``key``; for mail ``imap``,
``smtp``, ``user``, ``password``, ``address``; for calendar and contacts ``url``,
``user``, ``password``; for bank, shop and parcels ``url``, ``openapi``, ``user``,
``password``; for chat ``url``, ``server_name``, ``user``, ``password`` — then
keeps the world up until SIGINT or SIGTERM, tears it down and exits 0. The
episode folder (``--out``) holds the seed record, the services' state and their
audit logs.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from rig.commands import task_folder
from rig.errors import RigError

app = typer.Typer(no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Worlds for people: ``rig world up TASK``."""


def describe_device(device: Any) -> dict[str, Any]:
    """How a person reaches one device: an adb serial, or ssh and its key."""
    if device.kind == "android":
        return {"kind": "android", "serial": device.serial}
    session = device.session
    return {
        "kind": "linux",
        "ssh": f"{session.user}@{session.host}:{session.port}",
        "key": str(session.key_path),
    }


def describe_world(task_id: str, world: Any) -> dict[str, Any]:
    return {
        "task": task_id,
        "devices": {role: describe_device(d) for role, d in world.devices.items()},
        "services": {name: s.endpoint() for name, s in world.services.items()},
    }


@app.command("up")
def up(
    ctx: typer.Context,
    task_dir: Path = typer.Argument(..., help="a task folder"),
    out: Path | None = typer.Option(
        None, help="episode folder (default: <paths.out>/<task id>-world-<UTC time>)"
    ),
    android: str | None = typer.Option(None, help="sim | avd:NAME | attach:SERIAL"),
    linux: str | None = typer.Option(None, help="qemu | attach:USER@HOST:PORT"),
) -> None:
    """Bring TASK_DIR's world up and seeded, print its endpoints as JSON, wait for a signal."""
    from rig.episode import Episode, backend_overrides

    config = backend_overrides(ctx.obj["config"], android, linux)
    loaded = task_folder.load(task_dir)
    if out is None:
        out = task_folder.default_out(config, loaded.task.id, "world")
    if out.exists() and any(out.iterdir()):
        raise RigError(f"{out} already holds files; choose another --out")
    console = Console(stderr=True, soft_wrap=True)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    episode = Episode(loaded, config, out, "world-up", lambda m: console.print(Text(m)))
    try:
        episode.setup()
        assert episode.world is not None
        print(json.dumps(describe_world(loaded.task.id, episode.world)), flush=True)
        console.print(Text(f"world up ({out}); Ctrl-C or SIGTERM tears it down"))
        while not stop.wait(1.0):
            episode.world.check_services()  # a service that dies ends the session loudly
    finally:
        episode.close("aborted")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print(Text("world down"))
