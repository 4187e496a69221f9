"""A seeded record checked field for field against what the service reads back, one rule for all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rig.services.base import ServiceDown


def check_read_back(
    service: str, what: str, want: Mapping[str, Any], have: Mapping[str, Any] | None
) -> None:
    """Raise :class:`ServiceDown` naming ``what`` unless ``have`` holds every field of ``want``
    (a seed that does not read back is the service's failure, never the agent's)."""
    if have is None:
        raise ServiceDown(service, f"seed did not read back: {what} is missing")
    for key, value in want.items():
        if have.get(key) != value:
            raise ServiceDown(
                service,
                f"seed did not read back: {what} {key} is {have.get(key)!r}, not {value!r}",
            )
