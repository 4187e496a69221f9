"""The task folder a command is given, loaded, and its default episode folder: one rule for all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rig.errors import RigError
from tasks.loader import ProblemsFound

if TYPE_CHECKING:
    from rig.config import RigConfig
    from tasks.folder import LoadedTask


def load(task_dir: Path) -> LoadedTask:
    """TASK_DIR as a task; one that is not is a :class:`RigError` (exit 2) naming its problems."""
    from tasks.folder import load_task

    try:
        return load_task(task_dir)
    except ProblemsFound as exc:
        raise RigError(f"{task_dir} is not a valid task:\n{exc}") from None


def default_out(config: RigConfig, task_id: str, label: str = "") -> Path:
    """``<paths.out>/<task id>[-label]-<UTC time>``: a fresh episode folder per call."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(config.paths.out) / "-".join(p for p in (task_id, label, stamp) if p)
