"""A launched emulator and the registry of running ones (beside the port leases)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field, fields
from pathlib import Path

from emulator.avd.ports import _pid_alive


@dataclass
class EmulatorInstance:
    """One launched emulator."""

    avd: str
    console_port: int
    adb_port: int
    pid: int
    run_id: str
    log_path: Path
    read_only: bool = False
    snapshot: str | None = None
    owner_pid: int = field(default_factory=os.getpid)
    process: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.adb_port}"

    def exit_code(self) -> int | None:
        """The process's exit status, or None while it runs."""
        if self.process is not None:
            return self.process.poll()
        return None if _pid_alive(self.pid) else -1

    def log_tail(self, size: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - size))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "process"}
        data["log_path"] = str(self.log_path)
        return data


class Registry:
    """Running emulators this host's rig launched, one JSON file each."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir) / "instances"
        self.dir.mkdir(parents=True, exist_ok=True)

    def add(self, inst: EmulatorInstance) -> None:
        path = self.dir / f"{inst.console_port}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(inst.to_json()), encoding="utf-8")
        os.replace(tmp, path)

    def remove(self, inst: EmulatorInstance) -> None:
        (self.dir / f"{inst.console_port}.json").unlink(missing_ok=True)

    def all(self) -> list[EmulatorInstance]:
        out = []
        for path in sorted(self.dir.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                data["log_path"] = Path(data["log_path"])
                out.append(EmulatorInstance(**data))
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)
        return out
