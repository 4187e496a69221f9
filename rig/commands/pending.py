"""How a documented command that has not landed yet answers: plainly, exit code 2."""

from __future__ import annotations

from rig.errors import NotBuiltYet


def not_built(command: str, issue: str) -> NotBuiltYet:
    """The error for ``command``; ``issue`` says which piece of work delivers it."""
    return NotBuiltYet(
        f"`rig {command}` is not built yet (it arrives with {issue}); nothing was run"
    )
