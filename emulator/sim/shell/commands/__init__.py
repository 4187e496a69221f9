"""The shell's commands, one module per concern, registered by name.

A command is ``fn(sh, io, argv) -> status``: ``sh`` is the running
:class:`~emulator.sim.shell.interp.Interp` (variables, cwd, the phone's
context), ``io`` its standard streams, ``argv[0]`` the name it was called by.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.sim.shell.interp import Command

REGISTRY: dict[str, Command] = {}


def command(*names: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        for name in names:
            REGISTRY[name] = fn
        return fn

    return register


def all_commands() -> dict[str, Command]:
    from emulator.sim.shell.commands import (  # noqa: F401  (registration by import)
        android_am,
        android_pm,
        archive,
        builtins,
        content,
        files,
        screen,
        sqlite,
        system,
        text,
        utils,
    )

    return REGISTRY
