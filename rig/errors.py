"""The rig's error kinds.

Three families must never be confused, because the runner, the farm and the
scores depend on the distinction:

* infrastructure failures (a device did not boot, went away, did not seed):
  retried by suites and never counted against the agent;
* bad input (a malformed config, task or action): reported to whoever wrote it;
* the agent failing the task: not an exception at all, just a low score.

Device packages must not import ``rig``; they raise their own typed errors
(``emulator.errors``, ``linux_vm.errors``) which :func:`is_infra` recognises.
"""

from __future__ import annotations


class RigError(Exception):
    """Base of every error the rig raises on purpose."""


class ConfigInvalid(RigError):
    """``rig.toml`` (or an override) is malformed; the message names the key."""


class ActionInvalid(RigError):
    """An agent action cannot be carried out as given; becomes an error observation."""


class EpisodeOver(RigError):
    """A step asked of an episode that already ended on an infrastructure failure or an
    error; the verdict so far (what the agent said included) is in ``result``."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class NotBuiltYet(RigError):
    """A documented command whose implementation has not landed yet."""


class InfraError(RigError):
    """An infrastructure failure, with the device-level cause chained."""

    def __init__(self, message: str, *, device: str | None = None) -> None:
        super().__init__(message)
        self.device = device


def infra_bases() -> tuple[type[BaseException], ...]:
    """Exception bases that the device layers use for infrastructure failures."""
    bases: list[type[BaseException]] = [InfraError]
    try:
        from emulator.errors import AndroidError

        bases.append(AndroidError)
    except ImportError:  # pragma: no cover - partial installs
        pass
    try:
        from linux_vm.errors import VMError

        bases.append(VMError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(bases)


def is_infra(exc: BaseException) -> bool:
    """True when ``exc`` is an infrastructure failure rather than bad input or agent failure."""
    return isinstance(exc, infra_bases())
