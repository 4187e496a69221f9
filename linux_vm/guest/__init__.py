"""The Python that runs inside the Linux guest, as modules the linter and the tests see.

Each module here is a standalone program for the guest's ``python3`` (standard
library only, Python 3.11 as in Debian bookworm): it reads its input as JSON
(or a tar stream) on stdin and prints one JSON answer. The rig sends a
module's source to the guest's resident root helper (:mod:`linux_vm.helper`),
which runs it as ``__main__``; ``helper_server`` itself is written into the
image (a change to it changes the image recipe, hence a rebuild). Host tests
import the modules and call their functions directly.
"""

from __future__ import annotations

import functools
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@functools.cache
def source(name: str) -> str:
    """The text of guest program ``name`` (``sqlite_rows``, ``maildir``, …) to send."""
    path = _HERE / f"{name}.py"
    if path.parent != _HERE or not path.is_file():
        raise ValueError(f"no guest program {name!r}")
    return path.read_text(encoding="utf-8")
