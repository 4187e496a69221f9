"""Console/adb port pairs leased under a file lock, so parallel workers never collide."""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock

from emulator.adb import port_is_free
from emulator.errors import (
    PortBusy,
)

RUN_ID_ENV = "CLAWRIG_RUN_ID"
FIRST_CONSOLE_PORT = 5554
LAST_CONSOLE_PORT = 5682


# -- port leases and the registry of running emulators ------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PortAllocator:
    """Console/adb port pairs (``c``, ``c+1``, ``c`` even) leased under a file lock.

    A lease names the process that took it; leases of dead processes are
    reclaimed, and a pair is only handed out if both ports are free right now.
    """

    def __init__(
        self, state_dir: Path, first: int = FIRST_CONSOLE_PORT, last: int = LAST_CONSOLE_PORT
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.first = first + (first % 2)
        self.last = last
        self._lock = FileLock(str(self.state_dir / "ports.lock"))
        self._file = self.state_dir / "ports.json"

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {k: v for k, v in data.items() if _pid_alive(int(v.get("pid", 0)))}

    def _save(self, data: dict[str, dict]) -> None:
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self._file)

    def allocate(self, owner: str = "", pid: int | None = None) -> tuple[int, int]:
        with self._lock:
            leases = self._load()
            for console in range(self.first, self.last, 2):
                if str(console) in leases:
                    continue
                if port_is_free(console) and port_is_free(console + 1):
                    leases[str(console)] = {"pid": pid or os.getpid(), "owner": owner}
                    self._save(leases)
                    return console, console + 1
        raise PortBusy(f"no free console/adb port pair in {self.first}..{self.last}")

    def release(self, console: int) -> None:
        with self._lock:
            leases = self._load()
            leases.pop(str(console), None)
            self._save(leases)

    def leases(self) -> dict[int, dict]:
        with self._lock:
            return {int(k): v for k, v in self._load().items()}
