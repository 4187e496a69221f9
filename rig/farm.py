"""Where a suite's trials run: local worker processes, or tasks on a Ray cluster.

The suite loop (:func:`rig.suite.run_suite`) is the same for both: it hands a farm
the trial function, waits on the ``concurrent.futures.Future`` the farm returns,
and alone appends to ``results.jsonl``. A farm only decides where the function
runs. A future that raises instead of returning a row means the worker process
(or its node) went away, never that the agent failed: :meth:`Farm.lost` words it
as an infrastructure error, which the suite retries.

Ray is imported only when a Ray farm is asked for, so the rig runs without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from hostproc.parent import set_pdeathsig
from rig.errors import InfraError, RigError

LOCAL = "local"
NODE_LABEL = "ray.io/node-id"  # the label Ray gives every node: its id
INSTALL_HINT = "install clawrig[ray] (pip install 'clawrig[ray]')"


class Farm:
    """Runs picklable functions somewhere and hands back futures."""

    slots: int  # how many trials the suite keeps in flight
    # Whether the suite may choose which worker runs a trial (``idle_slots`` and
    # ``submit(slot=)``): a worker keeps its last world warm for the same task's next trial.
    affinity = False

    def idle_slots(self) -> list[int]:
        """The workers free for a trial now (with ``affinity``)."""
        return []

    def submit(
        self, fn: Callable[..., Any], *args: Any, avoid: str | None = None, slot: int | None = None
    ) -> Future:
        """Run ``fn(*args)``; ``avoid``: a node id the call should not run on if another
        can take it (a retry after an infra error there); ``slot``: on that worker."""
        raise NotImplementedError

    def quarantine(self, node_id: str) -> None:
        """Send nothing more to ``node_id`` (it failed its conformance probe)."""

    def healthy(self) -> bool:
        """Whether any node not quarantined can still take a trial."""
        return True

    def lost(self, exc: BaseException) -> str:
        """The infra-error text for a trial whose future raised ``exc``."""
        return f"worker died: {type(exc).__name__}: {_first_line(exc)}"

    def check_paths(self, paths: list[Path]) -> None:
        """Fail before any trial if a worker could not see ``paths`` (the suite, the out
        folder) as this process does; local workers share this machine's filesystem."""

    def close(self) -> None:
        """Release workers; a trial still running is abandoned (resume reruns it)."""

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


LOCK_FILE = ".suite.lock"


@contextlib.contextmanager
def hold_out_folder(out: Path) -> Iterator[Path]:
    """Hold ``out`` for this driver and its local workers; refuse if anyone else holds it.

    An ``flock`` on ``out/.suite.lock``: the driver takes it exclusively (so a driver,
    or a worker, of an earlier run still alive makes this fail at once), then shares it
    with its workers, each of which holds it until it exits. The kernel drops a lock
    with its last holder, so nothing stale is ever left to clean up.
    """
    path = out / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RigError(
                f"{out} is in use by another `rig suite run` ({holder}) or its workers; "
                "wait for it to end (or stop it) before --resume"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"driver pid {os.getpid()}\n".encode(), 0)
        fcntl.flock(fd, fcntl.LOCK_SH)  # now the workers can share it
        yield path
    finally:
        os.close(fd)


_worker_lock: int | None = None  # a worker's share of the out folder's lock, held to exit


def _init_worker(driver_pid: int, lock: str | None) -> None:  # pragma: no cover - in workers
    """Tie a local worker to its driver: it dies with the driver (and its devices, which
    die with the worker, with it), and holds the out folder's lock while it lives."""
    global _worker_lock
    set_pdeathsig()
    if os.getppid() != driver_pid:  # the driver died before the line above
        os._exit(1)
    if lock is not None:
        _worker_lock = os.open(lock, os.O_RDONLY)
        fcntl.flock(_worker_lock, fcntl.LOCK_SH)


class LocalFarm(Farm):
    """Spawned worker processes on this machine (the default).

    Workers are killed by the kernel when the driver dies (``kill -9`` included), so a
    dead suite leaves no trial running into its out folder. Each worker is a pool of
    one, so the suite chooses which worker runs a trial (``affinity``): the one that
    kept the same task's world warm.
    """

    affinity = True

    def __init__(self, workers: int, lock: Path | None = None) -> None:
        self.slots = max(1, workers)
        self._quarantined = False  # the one node: this machine and its devices
        self._lock = str(lock) if lock is not None else None
        self._pools = [self._new_pool() for _ in range(self.slots)]
        self._running: dict[int, Future] = {}

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(os.getpid(), self._lock),
        )

    def quarantine(self, node_id: str) -> None:
        self._quarantined = True

    def healthy(self) -> bool:
        return not self._quarantined

    def idle_slots(self) -> list[int]:
        return [i for i in range(self.slots) if i not in self._running or self._running[i].done()]

    def submit(
        self, fn: Callable[..., Any], *args: Any, avoid: str | None = None, slot: int | None = None
    ) -> Future:
        if slot is None:
            idle = self.idle_slots()
            slot = idle[0] if idle else min(range(self.slots), key=lambda i: i in self._running)
        try:
            future = self._pools[slot].submit(fn, *args)
        except BrokenProcessPool:
            # A killed worker breaks its pool; its trial already failed as an infra error,
            # so a fresh worker carries on with the rest of the suite.
            self._pools[slot].shutdown(wait=False, cancel_futures=True)
            self._pools[slot] = self._new_pool()
            future = self._pools[slot].submit(fn, *args)
        self._running[slot] = future
        return future

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=False, cancel_futures=True)
        for pool in self._pools:  # side by side: each worker closes the world it kept
            pool.shutdown(wait=True)


class RayFarm(Farm):
    """One Ray task per trial, on whichever node has ``num_cpus`` free.

    Connects to an existing cluster (``address``: ``auto`` or ``HOST:PORT``) unless this
    process is already connected to one, which is then used (and left connected). Ray's own
    task retries are off, so every attempt is one line in ``results.jsonl``.
    """

    def __init__(self, address: str, workers: int | None = None, num_cpus: float = 1.0) -> None:
        ray = import_ray()
        self._ray = ray
        self._owned = False
        if not ray.is_initialized():
            _probe(address)
            try:
                ray.init(address=address, log_to_driver=False, logging_level="WARNING")
            except (ConnectionError, RuntimeError, ValueError) as exc:
                hint = ""
                if address != "auto" and "RAY_AUTH_MODE" not in os.environ:
                    hint = (
                        " (a cluster with token authentication also needs RAY_AUTH_MODE=token"
                        " and its token in ~/.ray/auth_token or RAY_AUTH_TOKEN)"
                    )
                raise InfraError(
                    f"cannot reach the Ray cluster at {address!r}: {_first_line(exc)}{hint}"
                ) from None
            self._owned = True
        self.num_cpus = num_cpus
        if workers is None:
            cpus = float(ray.cluster_resources().get("CPU", 1))
            workers = int(cpus // num_cpus)
        self.slots = max(1, workers)
        self._remotes: dict[Callable[..., Any], Any] = {}
        self._quarantined: set[str] = set()

    def submit(
        self, fn: Callable[..., Any], *args: Any, avoid: str | None = None, slot: int | None = None
    ) -> Future:
        remote = self._remotes.get(fn)
        if remote is None:
            remote = self._ray.remote(fn)
            self._remotes[fn] = remote
        options: dict[str, Any] = {"num_cpus": self.num_cpus, "max_retries": 0}
        if self._quarantined or avoid:
            from ray.util.scheduling_strategies import NodeLabelSchedulingStrategy, NotIn

            # Quarantined nodes never; the node a retry failed on only if no other has room.
            hard = {NODE_LABEL: NotIn(*sorted(self._quarantined))} if self._quarantined else {}
            soft = {NODE_LABEL: NotIn(avoid)} if avoid else None
            options["scheduling_strategy"] = NodeLabelSchedulingStrategy(hard=hard, soft=soft)
        return remote.options(**options).remote(*args).future()

    def quarantine(self, node_id: str) -> None:
        self._quarantined.add(node_id)

    def healthy(self) -> bool:
        return bool(self._trial_nodes())

    def _trial_nodes(self) -> list[dict[str, Any]]:
        """Live nodes with room for a trial that are not quarantined."""
        return [
            n
            for n in self._ray.nodes()
            if n.get("Alive")
            and n.get("Resources", {}).get("CPU", 0) >= self.num_cpus
            and n["NodeID"] not in self._quarantined
        ]

    def on_every_node(
        self, fn: Callable[..., Any], *args: Any, timeout: float = 600
    ) -> dict[str, Any]:
        """``fn(*args)`` once on every live node that can take a trial, pinned there; by
        node label, the value or the exception it raised."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = self._ray.remote(fn)
        refs = {
            f"{n['NodeManagerAddress']} (node {n['NodeID'][:8]})": remote.options(
                num_cpus=0,
                max_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False),
            ).remote(*args)
            for n in self._trial_nodes()
        }
        results: dict[str, Any] = {}
        for node, ref in refs.items():
            try:
                results[node] = self._ray.get(ref, timeout=timeout)
            except Exception as exc:
                results[node] = exc
        return results

    def check_paths(self, paths: list[Path]) -> None:
        """Run a probe on every live node that can take a trial: each must see a file made
        just now in the first path (the out folder) and every other path, or trials there
        would write records the driver never sees."""
        probe = paths[0] / f".farm-probe-{uuid.uuid4().hex}"
        probe.write_text("clawrig", encoding="utf-8")
        try:
            found = self.on_every_node(
                _missing_paths, [str(probe), *map(str, paths[1:])], timeout=120
            )
            problems = []
            for node, missing in found.items():
                if isinstance(missing, BaseException):
                    problems.append(
                        f"{node}: probe failed: {type(missing).__name__}: {_first_line(missing)}"
                    )
                    continue
                problems += [f"{node}: cannot see {path}" for path in missing]
        finally:
            probe.unlink(missing_ok=True)
        if problems:
            raise RigError(
                "every Ray node must see the suite and the out folder at the same paths "
                "(a shared filesystem):\n  " + "\n  ".join(problems)
            )

    def lost(self, exc: BaseException) -> str:
        from ray import exceptions as rex

        if isinstance(exc, rex.RayTaskError):
            cause = getattr(exc, "cause", None) or exc
            return f"ray task failed: {type(cause).__name__}: {_first_line(cause)}"
        if isinstance(exc, rex.NodeDiedError):
            return f"ray node died: {_first_line(exc)}"
        if isinstance(exc, rex.WorkerCrashedError):
            return f"ray worker died: {_first_line(exc)}"
        return f"ray: {type(exc).__name__}: {_first_line(exc)}"

    def close(self) -> None:
        if self._owned:
            self._ray.shutdown()


def import_ray() -> Any:
    """The ``ray`` module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise RigError(f"running a suite on Ray needs the ray package: {INSTALL_HINT}") from None
    return ray


def open_farm(
    workers: int | None, ray: str | None = None, ray_cpus: float = 1.0, lock: Path | None = None
) -> Farm:
    """Local processes unless ``ray`` names a cluster (``auto`` or ``HOST:PORT``); local
    workers share ``lock`` (see :func:`hold_out_folder`)."""
    if ray is None or ray == LOCAL:
        return LocalFarm(workers or 1, lock)
    return RayFarm(ray, workers, ray_cpus)


def _missing_paths(paths: list[str]) -> list[str]:
    """Runs on a Ray node: which of ``paths`` it cannot see."""
    return [p for p in paths if not Path(p).exists()]


def _probe(address: str) -> None:
    """Fail in seconds on an address nobody listens on (``ray.init`` retries for minutes)."""
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        raise InfraError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
