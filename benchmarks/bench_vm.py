"""Linux VMs: cold boot vs snapshot restore, shell round trips, overlays, memory — one run.

Prints side-by-side figures and the ratios the issue sets targets for:
cold boot / restore to a usable SSH shell (target >= 10x), persistent-shell
round trip (target < 20 ms median) vs a new exec channel per command, overlay
creation time, and the resident memory of idle VMs. The host's load average
is printed too: on a shared 2-core machine TCG timings move with it.

    .venv/bin/python benchmarks/bench_vm.py [--restores 6] [--cold 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from linux_vm.backends import QemuBackend
from linux_vm.qemu import create_overlay
from linux_vm.snapshot import boot_cold, ensure_snapshot, restore
from rig.config import RigConfig


def _memory_mb(pid: int, field: str) -> float:
    """``Rss`` counts every page a VM maps; ``Pss`` splits pages shared with other VMs
    (the saved RAM file they all map) between them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _size_mb(path: Path, allocated: bool = False) -> float:
    st = path.stat()
    return (st.st_blocks * 512 if allocated else st.st_size) / 1e6


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restores", type=int, default=6)
    parser.add_argument("--cold", type=int, default=2)
    args = parser.parse_args()

    backend = QemuBackend(RigConfig().backend_config("linux"), progress=lambda m: None)
    image = backend.image()
    accel = backend.accel()
    shape = {"accel": accel, "memory_mb": backend.memory_mb, "cpus": backend.cpus}
    snap = ensure_snapshot(image, backend.cache, timeout=300, **shape)  # type: ignore[arg-type]
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, str]] = []

    with tempfile.TemporaryDirectory(prefix="clawrig-bench-vm-") as tmp:
        work = Path(tmp)

        overlay_times = []
        for i in range(20):
            t = time.perf_counter()
            create_overlay(image.base, work / f"o{i}.qcow2")
            overlay_times.append(time.perf_counter() - t)

        # Interleaved (a cold boot, then its share of restores, and again), so a change in
        # the host's load during the run falls on both sides. Besides wall time, the QEMU
        # process's CPU time at the same point: the work each path costs, which moves
        # far less than wall time when other programs compete for the two cores.
        cold_times, cold_cpu, restore_times, restore_cpu = [], [], [], []
        per_round = -(-args.restores // args.cold)
        for i in range(args.cold):
            disk = work / f"cold{i}.qcow2"
            t = time.perf_counter()
            create_overlay(image.base, disk)
            vm, session = boot_cold(image, disk, work / f"cold{i}", timeout=300, **shape)
            session.exec("true", timeout=60, remote_timeout=False)
            cold_times.append(time.perf_counter() - t)
            cold_cpu.append(_cpu_seconds(vm.pid))  # type: ignore[arg-type]
            session.close()
            vm.stop()
            for j in range(min(per_round, args.restores - len(restore_times))):
                t = time.perf_counter()
                # restore() returns after its first command ran (boot_id/marker check +
                # clock), the same point the cold boot reaches with its `true`.
                vm, session = restore(
                    image, snap, work / f"r{i}-{j}.qcow2", work / f"r{i}-{j}", timeout=300, **shape
                )
                restore_times.append(time.perf_counter() - t)
                restore_cpu.append(_cpu_seconds(vm.pid))  # type: ignore[arg-type]
                session.close()
                vm.stop()
        vm, session = restore(image, snap, work / "rt.qcow2", work / "rt", timeout=300, **shape)

        # Round trips on the last restored VM.
        shell = session.shell()
        for _ in range(5):
            shell.run("true")
        shell_rt = []
        for _ in range(50):
            t = time.perf_counter()
            shell.run("true")
            shell_rt.append(time.perf_counter() - t)
        exec_rt = []
        for _ in range(15):
            t = time.perf_counter()
            session.exec("true", timeout=None)
            exec_rt.append(time.perf_counter() - t)
        exec_timeout_rt = []
        for _ in range(15):
            t = time.perf_counter()
            session.exec("true", timeout=30)
            exec_timeout_rt.append(time.perf_counter() - t)

        # Memory: this idle VM, then a second one restored beside it.
        time.sleep(3)
        rss_one = _memory_mb(vm.pid, "Rss")  # type: ignore[arg-type]
        vm2, session2 = restore(image, snap, work / "m2.qcow2", work / "m2", timeout=300, **shape)
        time.sleep(3)
        pids = (vm.pid, vm2.pid)
        rss_two = sum(_memory_mb(p, "Rss") for p in pids)  # type: ignore[arg-type]
        pss_two = sum(_memory_mb(p, "Pss") for p in pids)  # type: ignore[arg-type]
        for s, v in ((session, vm), (session2, vm2)):
            shell.close()
            s.close()
            v.stop()

    cold = statistics.median(cold_times)
    warm = statistics.median(restore_times)
    rows += [
        ("accelerator", accel),
        ("VM shape", f"{backend.memory_mb} MiB, {backend.cpus} vCPU"),
        (f"cold boot -> SSH shell (median of {len(cold_times)})", f"{cold:8.2f} s"),
        (f"restore -> SSH shell (median of {len(restore_times)})", f"{warm:8.2f} s"),
        ("cold / restore", f"{cold / warm:8.1f}x   (target >= 10x)"),
        (
            "QEMU CPU time to that point: cold / restore",
            f"{statistics.median(cold_cpu):8.2f} s / {statistics.median(restore_cpu):.2f} s"
            f" = {statistics.median(cold_cpu) / statistics.median(restore_cpu):.1f}x",
        ),
        ("persistent shell round trip (50)", _ms(shell_rt) + "   (target < 20 ms)"),
        ("new exec channel per command (15)", _ms(exec_rt)),
        ("  + remote `timeout` wrapper (15)", _ms(exec_timeout_rt)),
        (
            "exec channel / persistent shell",
            f"{statistics.median(exec_rt) / statistics.median(shell_rt):8.1f}x",
        ),
        ("overlay creation (qemu-img, 20)", _ms(overlay_times)),
        (
            "saved state: migration stream / RAM file",
            f"{_size_mb(snap.state):8.1f} MB / {_size_mb(snap.ram, allocated=True):.0f} MB",
        ),
        ("RSS of one idle VM", f"{rss_one:8.0f} MB"),
        ("RSS of two idle VMs", f"{rss_two:8.0f} MB ({rss_two / 2:.0f} MB each)"),
        (
            "PSS of two idle VMs (shared pages split)",
            f"{pss_two:8.0f} MB ({pss_two / 2:.0f} MB each)",
        ),
        ("host load average (before / after)", f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
