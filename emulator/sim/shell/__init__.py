"""The phone's shell: a POSIX parser and interpreter with Android's commands."""

from emulator.sim.shell.interp import CommandError
from emulator.sim.shell.parser import ShellSyntaxError, parse
from emulator.sim.shell.runner import Shell

__all__ = ["CommandError", "Shell", "ShellSyntaxError", "parse"]
