"""The AVD backend through the stand-in SDK: the real launcher code, real processes, real adb."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.avd import (
    EmulatorInstance,
    Launcher,
    PortAllocator,
    Sdk,
    create_avd,
    find_sdk,
    has_snapshot,
    installed_images,
    reap,
)
from emulator.avd.instances import Registry
from emulator.backends import AvdBackend
from emulator.config import AndroidBackendConfig
from emulator.errors import (
    AdbOffline,
    BootTimeout,
    EmulatorExited,
    NoKvm,
    PortBusy,
    SdkNotFound,
    SnapshotIncompatible,
)
from emulator.seeding import SeedPlan, Sms
from hostproc.labels import PREFIXES, labelled_processes
from rig.config import parse_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SDK_ROOT = Path(__file__).parent / "sdk"
IMAGE = "system-images;android-34;default;x86_64"
TEST_PORTS = (15554, 15700)  # console ports to lease from; taken ones are skipped
# One lease file for every test session on this host, as the rig's cache is in production:
# concurrent sessions then never pick the same free port at the same moment.
LEASES = Path(tempfile.gettempdir()) / "clawrig-test-avd-ports"


def _config(tmp: Path, snapshot: str | None) -> AndroidBackendConfig:
    avd = {"name": "clawrig_test", "boot_timeout_s": 60}
    if snapshot:
        avd["snapshot"] = snapshot
    return parse_config({"android": {"avd": avd}, "paths": {"cache": str(tmp)}}).backend_config(
        "android"
    )


def _backend(sdk: Sdk, server: AdbServer, tmp: Path, snapshot: str | None = None) -> AvdBackend:
    return AvdBackend(
        _config(tmp, snapshot),
        server=server,
        sdk=sdk,
        state_dir=tmp / "state",
        run_id=f"test-{uuid.uuid4().hex[:8]}",
        ports=PortAllocator(LEASES, *TEST_PORTS),
    )


def _launcher(sdk: Sdk, server: AdbServer, tmp: Path, run_id: str = "") -> Launcher:
    state = tmp / "state"
    return Launcher(
        sdk,
        server,
        state,
        run_id=run_id or f"test-{uuid.uuid4().hex[:8]}",
        ports=PortAllocator(LEASES, *TEST_PORTS),
    )


def _ours(ports: PortAllocator) -> set[int]:
    """Console ports this test process holds leases on (other sessions share the file)."""
    return {port for port, lease in ports.leases().items() if lease["pid"] == os.getpid()}


def test_sdk_discovery(sdk: Sdk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert sdk.emulator.name == "emulator" and sdk.avdmanager is not None
    assert installed_images(sdk) == [IMAGE]
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.setenv("ANDROID_SDK_ROOT", str(SDK_ROOT))
    assert find_sdk().root == SDK_ROOT
    monkeypatch.delenv("ANDROID_SDK_ROOT")
    with pytest.raises(SdkNotFound, match="ANDROID_HOME"):
        find_sdk()
    with pytest.raises(SdkNotFound, match="no executable emulator"):
        find_sdk(tmp_path)
    with pytest.raises(SdkNotFound, match="not installed"):
        create_avd(sdk, "other", "system-images;android-99;default;x86_64")


def test_boot_seed_snapshot_release(sdk: Sdk, adb_server: AdbServer, tmp_path: Path) -> None:
    backend = _backend(sdk, adb_server, tmp_path, snapshot="clean")
    phone = backend.acquire("phone", tmp_path / "w")
    try:
        inst = backend.instance(phone)
        assert has_snapshot(sdk, "clawrig_test", "clean")
        assert inst.read_only and TEST_PORTS[0] <= inst.console_port < TEST_PORTS[1]
        assert (
            "-no-window" in inst.log_path.read_text() and "-read-only" in inst.log_path.read_text()
        )
        assert phone.getprop("sys.boot_completed") == "1"
        phone.seed(SeedPlan(sms=[Sms("+15550123", "seeded", 1_700_000_000_000)]))
        where = "address='+15550123'"
        assert phone.read_state(
            {"kind": "provider", "uri": "content://sms", "projection": ["body"], "where": where}
        )
    finally:
        backend.release(phone)
    assert inst.exit_code() is not None
    assert _ours(backend.launcher.ports) == set()
    assert adb_server.state(inst.serial) is None


def test_three_in_parallel_and_a_crashed_one_released(
    sdk: Sdk, adb_server: AdbServer, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    backend = _backend(sdk, adb_server, tmp_path, snapshot="clean")
    backend.ensure_snapshot(tmp_path / "snap")
    with ThreadPoolExecutor(3) as pool:
        devices = list(pool.map(lambda i: backend.acquire(f"p{i}", tmp_path / f"w{i}"), range(3)))
    try:
        ports = [backend.instance(d).console_port for d in devices]
        assert len(set(ports)) == 3 and len({d.serial for d in devices}) == 3
        assert all(d.is_alive() for d in devices)
        assert _ours(backend.launcher.ports) == set(ports)
        # A crash: the emulator of one device dies; releasing it still frees what it held.
        victim = backend.instance(devices[0])
        os.killpg(victim.pid, signal.SIGKILL)
        assert all(d.is_alive() for d in devices[1:])
    finally:
        for d in devices:
            backend.release(d)
    assert _ours(backend.launcher.ports) == set()
    assert backend.launcher.registry.all() == []


LEAKER = """
import sys, uuid
from pathlib import Path
from emulator.adb import AdbServer
from emulator.avd import Launcher, PortAllocator, Sdk
sdk = Sdk(Path(sys.argv[1]), Path(sys.argv[1]) / "emulator/emulator", None, None, Path(sys.argv[2]))
server = AdbServer(port=int(sys.argv[4]), host="127.0.0.1")
state = Path(sys.argv[3])
launcher = Launcher(sdk, server, state, run_id=sys.argv[5],
                    ports=PortAllocator(Path(sys.argv[8]), int(sys.argv[6]), int(sys.argv[7])))
inst = launcher.boot("clawrig_test", state / "w", timeout=60, read_only=True)
print(inst.pid, flush=True)
import os; os._exit(0)  # a crashed run: the emulator is left running
"""


def test_reaper_stops_emulators_a_crashed_run_left(
    sdk: Sdk, adb_server: AdbServer, tmp_path: Path
) -> None:
    run_id = f"leak-{uuid.uuid4().hex[:8]}"
    state = tmp_path / "state"
    args = [sys.executable, "-c", LEAKER, str(sdk.root), str(sdk.avd_home), str(state)]
    args += [str(adb_server.port), run_id, str(TEST_PORTS[0]), str(TEST_PORTS[1]), str(LEASES)]
    pids: list[int] = []
    launcher = _launcher(sdk, adb_server, tmp_path)
    try:
        for _ in range(2):  # two crashed workers, each leaving an emulator running
            out = subprocess.run(
                args,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
                cwd=Path(__file__).parents[2],
            )
            pids.append(int(out.stdout.split()[0]))
        # Leaked: registered and running (unless another episode's reaper was quicker).
        entries = launcher.registry.all()
        assert sorted(i.pid for i in entries) == sorted(pids)
        # One of them is not even in the registry: found by its owner label.
        launcher.registry.remove(next(i for i in entries if i.pid == pids[1]))
        found = {f.pid: f for f in labelled_processes(PREFIXES["avd"]) if f.run_id == run_id}
        alive = [pid for pid in pids if _running(pid)]
        assert all(pid in found and not found[pid].owner_alive() for pid in alive)
        # Every episode on this machine reaps when it starts, so another process may stop
        # some of them first; whatever is left, this reap stops, and nothing else.
        assert set(reap(launcher, run_id)) <= set(pids)
        deadline = time.monotonic() + 20
        while any(_running(pid) for pid in pids):
            if time.monotonic() > deadline:
                pytest.fail("a reaped emulator still runs")
            time.sleep(0.1)
        leased = launcher.ports.leases()
        assert launcher.registry.all() == [] and not {i.console_port for i in entries} & set(leased)
    finally:
        reap(launcher, run_id)  # whatever failed above, leave nothing running


def test_a_backend_forgets_the_dead_emulators_of_crashed_runs(
    sdk: Sdk, adb_server: AdbServer, tmp_path: Path
) -> None:
    backend = _backend(sdk, adb_server, tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = EmulatorInstance(
        avd="clawrig_test", console_port=TEST_PORTS[1] - 1, adb_port=TEST_PORTS[1],
        pid=gone.pid, run_id="crashed", log_path=tmp_path / "e.log", owner_pid=gone.pid,
    )  # fmt: skip
    Registry(tmp_path / "state").add(dead)
    assert backend.launcher.registry.all() == []


def _running(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _failing_avd(sdk: Sdk, mode: str) -> str:
    name = f"fail_{mode.replace('-', '_')}"
    path = create_avd(sdk, name, IMAGE)
    with open(path / "config.ini", "a") as fh:
        fh.write(f"clawrig.fail={mode}\n")
    return name


@pytest.mark.parametrize(
    ("mode", "error", "message", "kwargs"),
    [
        ("nokvm", NoKvm, "no usable hardware acceleration", {}),
        ("exit", EmulatorExited, "exited with status 1 before boot completed", {}),
        (
            "snapshot",
            SnapshotIncompatible,
            "snapshot 'clean' cannot be loaded",
            {"snapshot": "clean"},
        ),
        ("adb-offline", AdbOffline, "adb never saw it online", {"timeout": 6}),
        ("boot-timeout", BootTimeout, "waiting for sys.boot_completed", {"timeout": 6}),
    ],
)
def test_each_failure_is_diagnosed(
    sdk: Sdk,
    adb_server: AdbServer,
    tmp_path: Path,
    mode: str,
    error: type,
    message: str,
    kwargs: dict,
) -> None:
    launcher = _launcher(sdk, adb_server, tmp_path)
    avd = _failing_avd(sdk, mode)
    timeout = kwargs.pop("timeout", 60)
    with pytest.raises(error) as info:
        launcher.boot(avd, tmp_path / "w", timeout=timeout, read_only=True, **kwargs)
    assert message in str(info.value)
    assert "--- device log (tail) ---" in str(info.value) and info.value.log_tail
    assert launcher.registry.all() == [] and _ours(launcher.ports) == set()


def test_port_busy_and_unknown_avd(sdk: Sdk, adb_server: AdbServer, tmp_path: Path) -> None:
    launcher = _launcher(sdk, adb_server, tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(PortBusy, match="already in use") as info:
            launcher.boot("clawrig_test", tmp_path / "w", ports=(port, port + 1), timeout=30)
        assert f"port {port} is already in use" in info.value.log_tail
    with pytest.raises(SdkNotFound, match=r"no AVD named 'nope'.*clawrig_test"):
        launcher.boot("nope", tmp_path / "w")


def test_writable_instance_is_exclusive(sdk: Sdk, adb_server: AdbServer, tmp_path: Path) -> None:
    launcher = _launcher(sdk, adb_server, tmp_path)
    first = launcher.boot("clawrig_test", tmp_path / "a", timeout=60)
    try:
        with pytest.raises(EmulatorExited, match="exited") as info:
            launcher.boot("clawrig_test", tmp_path / "b", timeout=60)
        assert "-read-only" in info.value.log_tail
    finally:
        launcher.stop(first)


def test_registry_builds_the_avd_backend(sdk: Sdk, monkeypatch: pytest.MonkeyPatch) -> None:
    from rig.world import Backend, make_backend

    monkeypatch.setenv("ANDROID_AVD_HOME", str(sdk.avd_home))
    cfg = parse_config({"android": {"avd": {"sdk": str(SDK_ROOT), "name": "clawrig_test"}}})
    backend = make_backend("android", "avd", cfg)
    assert isinstance(backend, Backend) and backend.avd == "clawrig_test"
    cfg = parse_config({"android": {"avd": {"sdk": str(SDK_ROOT), "name": "pixel_9"}}})
    with pytest.raises(SdkNotFound, match=r"no AVD named 'pixel_9'.*clawrig_test"):
        make_backend("android", "avd", cfg)


ALLOCATE = """
import sys, time
from pathlib import Path
from emulator.avd import PortAllocator
alloc = PortAllocator(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
got = [alloc.allocate(owner="worker") for _ in range(3)]
print(" ".join(str(c) for c, _ in got), flush=True)
release = Path(sys.argv[4])
deadline = time.monotonic() + 60
while not release.exists() and time.monotonic() < deadline:  # hold the leases meanwhile
    time.sleep(0.05)
"""


def test_port_leases_never_collide_across_processes(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", ALLOCATE, str(tmp_path), str(TEST_PORTS[0] + 200)]
    cmd += [str(TEST_PORTS[1] + 200), str(tmp_path / "release")]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
        for _ in range(4)
    ]
    ports = [int(p) for proc in procs for p in proc.stdout.readline().split()]  # type: ignore[union-attr]
    (tmp_path / "release").touch()
    for proc in procs:
        proc.wait(30)
    assert len(ports) == 12 and len(set(ports)) == 12
    assert all(p % 2 == 0 for p in ports)
    # The workers are gone: their leases are reclaimed.
    assert PortAllocator(tmp_path, TEST_PORTS[0] + 200, TEST_PORTS[1] + 200).leases() == {}


def test_a_stepped_world_pauses_the_avd_between_actions(
    sdk: Sdk, adb_server: AdbServer, tmp_path: Path
) -> None:
    """A stepped world stops an AVD (console ``avd stop``) between actions and starts it for
    each (``avd start``); the stand-in only reports the state it was told (the virtual phone
    under it keeps answering adb), so that is what is checked here."""
    from datetime import datetime

    from emulator.console import Console
    from rig.world import World
    from rig.world_clock import WorldTime

    backend = _backend(sdk, adb_server, tmp_path, snapshot="clean")
    phone = backend.acquire("phone", tmp_path / "w")
    world = World(now=datetime.fromisoformat("2026-03-16T09:00:00+01:00"), timezone="Europe/Berlin")
    world.add(phone, backend)
    port, token = phone.console

    def status() -> str:
        with Console(port, token_path=token) as con:
            return con.command("avd status")[0]

    try:
        assert phone.can_pause and status() == "virtual device is running"
        clock = WorldTime(world, "stepped")
        clock.start()
        with clock.running():  # the first observation
            assert status() == "virtual device is running"
        assert clock.paused == ["phone"] and status() == "virtual device is stopped"
        with clock.running():  # an action: running for it, nested blocks too
            with clock.running():
                assert status() == "virtual device is running"
            assert status() == "virtual device is running"
            clock.advance(60)
        assert status() == "virtual device is stopped"
        clock.release()  # the end of the agent phase: running for scoring and release
        assert clock.paused == [] and status() == "virtual device is running"
        with clock.running():
            pass
        assert status() == "virtual device is running"  # released: never paused again
        off = WorldTime(world, "stepped", pause=False)  # rig.toml [clock] pause_devices = false
        off.start()
        with off.running():
            off.advance(60)
        assert off.paused == [] and status() == "virtual device is running"
    finally:
        world.close()
