"""A pool of Android devices leased to workers, returned reset, replaced when unhealthy.

The pool owns ``size`` devices from one backend. :meth:`DevicePool.lease`
hands out a healthy device (a dead one is released and replaced first);
:meth:`DevicePool.give_back` resets it through the backend (snapshot load or
cold boot) before the next worker gets it, and replaces it if the reset fails.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulator.errors import AndroidError


def _alive(device: Any) -> bool:
    check = getattr(device, "is_alive", None)
    return bool(check()) if check is not None else True


class DevicePool:
    """``size`` devices from ``backend`` (anything with acquire/release, optionally reset)."""

    def __init__(
        self,
        backend: Any,
        size: int,
        workdir: Path,
        role: str = "phone",
        healthy: Callable[[Any], bool] = _alive,
    ) -> None:
        if size < 1:
            raise ValueError("a device pool needs at least one device")
        self.backend = backend
        self.size = size
        self.workdir = Path(workdir)
        self.role = role
        self.healthy = healthy
        self.replaced = 0
        self._idle: queue.Queue[Any] = queue.Queue()
        self._all: list[Any] = []
        self._counter = 0
        self._lock = threading.Lock()

    def _new(self) -> Any:
        with self._lock:
            self._counter += 1
            slot = self._counter
        device = self.backend.acquire(f"{self.role}{slot}", self.workdir / f"slot{slot}")
        with self._lock:
            self._all.append(device)
        return device

    def start(self) -> DevicePool:
        """Bring all devices up in parallel; on any failure, release what came up and raise."""
        with ThreadPoolExecutor(max_workers=self.size) as ex:
            futures = [ex.submit(self._new) for _ in range(self.size)]
            errors = [f.exception() for f in futures]
        if any(errors):
            self.close()
            raise next(e for e in errors if e is not None)
        for device in list(self._all):
            self._idle.put(device)
        return self

    def _discard(self, device: Any) -> None:
        with self._lock:
            if device in self._all:
                self._all.remove(device)
        try:
            self.backend.release(device)
        except Exception:
            pass

    def _replace(self, device: Any) -> Any:
        self._discard(device)
        self.replaced += 1
        return self._new()

    def lease(self, timeout: float | None = None) -> Any:
        """A healthy device, waiting up to ``timeout`` s for one to be free."""
        try:
            device = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise AndroidError(f"no device free in the pool within {timeout}s") from None
        if not self.healthy(device):
            device = self._replace(device)
        return device

    def give_back(self, device: Any) -> None:
        """Reset the device (or replace it if it is broken) and make it available again."""
        reset = getattr(self.backend, "reset", None)
        try:
            if not self.healthy(device):
                raise AndroidError("unhealthy")
            if reset is not None:
                device = reset(device)
        except Exception:
            device = self._replace(device)
        self._idle.put(device)

    @contextmanager
    def leased(self, timeout: float | None = None) -> Iterator[Any]:
        device = self.lease(timeout)
        try:
            yield device
        finally:
            self.give_back(device)

    def devices(self) -> list[Any]:
        with self._lock:
            return list(self._all)

    def close(self) -> None:
        """Release every device; never raises for already-dead ones."""
        for device in self.devices():
            self._discard(device)
        while not self._idle.empty():
            self._idle.get_nowait()

    def __enter__(self) -> DevicePool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
