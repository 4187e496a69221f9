"""A child that dies with the process that started it (Linux ``PR_SET_PDEATHSIG``)."""

from __future__ import annotations

import ctypes
import functools
import signal
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def set_pdeathsig(sig: int = signal.SIGKILL) -> None:  # pragma: no cover - runs in the child
    """Ask the kernel to send ``sig`` when the parent goes away.

    Call it in the child before exec (``preexec_fn``) or at the start of a worker. The
    kernel ties it to the spawning *thread*: spawn from the main thread, or the child
    dies when that thread ends.
    """
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig)


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets ``sig`` when we die
    (SIGTERM lets a child save its state first; SIGKILL is the default)."""
    return functools.partial(set_pdeathsig, sig)
