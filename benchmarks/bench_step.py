"""What one agent step costs on the virtual phone, and how much of it is the rig.

Prints, from one run:

1. adb shell round trip: the rig's ``AdbAndroidDevice.shell`` against a raw smart
   socket (``host:transport`` + ``shell:``) through the same adb server, and adbutils'
   ``d.shell`` for reference (target: rig <= 3x raw);
2. GUI steps (action + settle + screenshot, plus the UI tree the observation carries)
   through ``TaskEnv`` and through the MCP server (``rig mcp serve`` over stdio, a real
   MCP client), median and p90 per action and overall (target: median <= 150 ms, p90
   <= 250 ms), and MCP / TaskEnv;
3. with ``--before CHECKOUT``: the oracle's agent phase (``rig run``) on phone-only
   suite tasks, this checkout and CHECKOUT alternately, side by side.

    .venv/bin/python benchmarks/bench_step.py [--steps N] [--before DIR] [--tasks a,b]

The load average is printed with the figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import median_ms

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "tasks" / "suite" / "dentist-moved-by-sms"
PHONE_TASKS = ["dentist-moved-by-sms", "reply-jonas-from-calendar", "school-pickup-moved"]
# The cycle of GUI actions timed, each changing the screen: Contacts opened by ``launch``,
# home, a tap on the launcher's Calendar icon (its agenda lists the seeded stream: the
# phone's heaviest screen here; :func:`aim_at_calendar` finds the icon), back home.
CYCLE: list[dict[str, Any]] = [
    {"action": "launch", "device": "phone", "app": "com.android.contacts"},
    {"action": "key", "device": "phone", "key": "home"},
    {"action": "tap", "device": "phone", "x": 0, "y": 0},
    {"action": "key", "device": "phone", "key": "back"},
]


def bench_task(tmp: Path) -> Path:
    """A copy of TASK whose step limit leaves room for the timed steps."""
    task = tmp / TASK.name
    shutil.copytree(TASK, task, dirs_exist_ok=True)
    text = (task / "task.yaml").read_text(encoding="utf-8")
    (task / "task.yaml").write_text(
        text.replace("limits: {max_steps: 40,", "limits: {max_steps: 5000,"), encoding="utf-8"
    )
    return task


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def raw_shell(port: int, serial: str, command: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for req in (f"host:transport:{serial}", f"shell:{command}"):
            s.sendall(f"{len(req):04x}{req}".encode())
            assert s.recv(4) == b"OKAY"
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def raw_service(port: int, serial: str, service: str, payload: bytes = b"") -> bytes:
    """One device service on a raw smart socket: everything it sends until it closes."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for req in (f"host:transport:{serial}", service):
            s.sendall(f"{len(req):04x}{req}".encode())
            assert s.recv(4) == b"OKAY"
        if payload:
            s.sendall(payload)
        out = bytearray()
        while chunk := s.recv(1 << 20):
            out += chunk
        return bytes(out)


def raw_rpc(port: int, serial: str, method: str, *params: Any) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    head = f"POST /jsonrpc/0 HTTP/1.0\r\nContent-Length: {len(body)}\r\n\r\n"
    return raw_service(port, serial, "tcp:9008", (head + body).encode())


# What the device does for each action of CYCLE (the shell commands the rig sends).
RAW_ACTION = {
    "launch": ["monkey -p com.android.contacts -c android.intent.category.LAUNCHER 1"],
    "key home": ["input keyevent 3"],
    "tap": ["input tap 0 0"],  # set by aim_at_calendar
    "key back": ["input keyevent 4"],
}


def aim_at_calendar(env: Any) -> None:
    """Point CYCLE's tap (and its raw twin) at the centre of the launcher's Calendar icon."""
    env.step({"action": "key", "device": "phone", "key": "home"})
    icon = next(e for e in env.episode.env.elements("phone") if e.text == "Calendar")
    x, y = icon.center
    CYCLE[2].update(x=x, y=y)
    RAW_ACTION["tap"] = [f"input tap {x} {y}"]


def raw_step(port: int, serial: str, action: dict[str, Any]) -> None:
    """The requests of one GUI step with no rig code around them: the screenshot before
    (for the record), the action, settle (small frame, waitForIdle, small frame), the
    screenshot after, the UI tree. The floor the rig's step is measured against."""
    name = action_name(action)
    commands = next(v for k, v in RAW_ACTION.items() if name.startswith(k))
    raw_service(port, serial, "exec:screencap -p")
    for command in commands:
        raw_service(port, serial, f"shell:{command}")
    raw_rpc(port, serial, "takeScreenshot", 0.25, 50)
    raw_rpc(port, serial, "waitForIdle", 5000)
    raw_rpc(port, serial, "takeScreenshot", 0.25, 50)
    raw_service(port, serial, "exec:screencap -p")
    raw_rpc(port, serial, "dumpWindowHierarchy", False, 50)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(label: str, times: dict[str, list[float]]) -> list[float]:
    every = [t for ts in times.values() for t in ts]
    for name, ts in times.items():
        med, p90 = statistics.median(ts), pct(ts, 0.9)
        print(f"  {label:8} {name:22} median {med:7.1f} ms  p90 {p90:7.1f} ms")
    print(
        f"  {label:8} {'all GUI steps':22} median {statistics.median(every):7.1f} ms  "
        f"p90 {pct(every, 0.9):7.1f} ms  (n={len(every)})"
    )
    return every


def action_name(action: dict[str, Any]) -> str:
    rest = {k: v for k, v in action.items() if k not in ("action", "device")}
    return f"{action['action']} {' '.join(str(v) for v in rest.values())}"[:22]


def bench_shell(phone: Any, rounds: int) -> float:
    port, serial = phone.server.port, phone.serial
    t_raw = median_ms(lambda: raw_shell(port, serial, "echo hi"), rounds)
    t_rig = median_ms(lambda: phone.shell("echo hi"), rounds)
    import adbutils

    dev = adbutils.AdbClient(host="127.0.0.1", port=port).device(serial)
    t_adbutils = median_ms(lambda: dev.shell("echo hi"), max(20, rounds // 5))
    print(f"adb shell 'echo hi' round trip (median of {rounds}), load {loadavg()}")
    print(f"  raw smart socket            {t_raw:7.3f} ms   1.0x")
    print(f"  rig AdbAndroidDevice.shell  {t_rig:7.3f} ms  {t_rig / t_raw:5.1f}x")
    print(f"  adbutils d.shell            {t_adbutils:7.3f} ms  {t_adbutils / t_raw:5.1f}x")
    return t_rig / t_raw


def bench_gui(steps: int, rounds: int, with_mcp: bool) -> tuple[list[float], float]:
    """Two worlds of the same task, one behind TaskEnv and one behind ``rig mcp serve``; a
    cycle of GUI steps through TaskEnv, the same device requests on raw sockets (on the
    TaskEnv world's phone), then a cycle through MCP, in turn, so all three see the same
    load."""
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from rig.api import TaskEnv

    out = Path(tempfile.mkdtemp(prefix="bench-step-"))
    times: dict[str, dict[str, list[float]]] = {}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rig.cli", "mcp", "serve", str(bench_task(out)), "--out", str(out / "mcp")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=str(out),
    )
    result: dict[str, float] = {}

    async def session() -> None:
        with TaskEnv(out / TASK.name, out=out / "env") as env:
            env.reset()
            assert env.episode is not None and env.episode.env is not None
            phone = env.episode.env.world["phone"]
            result["shell"] = bench_shell(phone, rounds)
            aim_at_calendar(env)
            names = [action_name(a) for a in CYCLE]
            times.update({k: {n: [] for n in names} for k in ("TaskEnv", "raw", "MCP")})
            port, serial = phone.server.port, phone.serial
            with (out / "stderr.txt").open("w") as err:
                async with Client(
                    stdio_client(params, errlog=err), read_timeout_seconds=300
                ) as client:
                    await client.call_tool("get_task", {})

                    async def mcp(action: dict[str, Any]) -> None:
                        args = {k: v for k, v in action.items() if k != "action"}
                        res = await client.call_tool(action["action"], args)
                        assert not res.is_error, res.content
                        assert any(c.type == "image" for c in res.content)

                    def taskenv(action: dict[str, Any]) -> None:
                        obs, _, _ = env.step(action)
                        assert obs.ok and obs.screenshot_png, obs.error

                    for a in CYCLE:  # warm-up: the first captures choose the screenshot path
                        taskenv(a)
                        if with_mcp:
                            await mcp(a)
                    for _ in range(max(1, steps // len(CYCLE))):
                        for a in CYCLE:
                            t0 = time.perf_counter()
                            taskenv(a)
                            times["TaskEnv"][action_name(a)].append(
                                (time.perf_counter() - t0) * 1000
                            )
                        for a in CYCLE:
                            t0 = time.perf_counter()
                            raw_step(port, serial, a)
                            times["raw"][action_name(a)].append((time.perf_counter() - t0) * 1000)
                        if with_mcp:
                            for a in CYCLE:
                                t0 = time.perf_counter()
                                await mcp(a)
                                times["MCP"][action_name(a)].append(
                                    (time.perf_counter() - t0) * 1000
                                )
                    await client.call_tool("finish", {"reason": "benchmark"})
            env.step({"action": "finish", "device": "phone"})

    bench_task(out)  # the TaskEnv world's copy (the MCP server's is made above)
    try:
        anyio.run(session)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(
        f"GUI step (action + settle + screenshot + UI tree), {steps} per front end, cycles in "
        f"turn; load {loadavg()}"
    )
    every = summary("TaskEnv", times["TaskEnv"])
    raw = summary("raw", times["raw"])
    med_env, med_raw = statistics.median(every), statistics.median(raw)
    print(
        f"  rig's own share of a TaskEnv step: {med_env - med_raw:.1f} ms of {med_env:.1f} ms "
        "median (raw = the same device requests on raw sockets, no rig code)"
    )
    if with_mcp:
        mcp_steps = summary("MCP", times["MCP"])
        ratio = statistics.median(mcp_steps) / med_env
        print(f"  MCP / TaskEnv median GUI step: {ratio:.2f}x")
    return every, result["shell"]


def oracle_agent_seconds(checkout: Path, task_dir: Path, out: Path) -> float:
    """The agent phase of ``rig run`` with ``checkout``'s code on ``task_dir``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rig.cli",
            "run",
            str(task_dir),
            "--out",
            str(out),
            "--overwrite",
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        timeout=900,
        check=False,
    )
    phases = json.loads((out / "episode.json").read_text())["phases"]
    return float(phases["agent"]["seconds"])


def bench_oracle(before: Path, tasks: list[str], own_tasks: bool = False) -> None:
    print(f"oracle agent phase (rig run, seconds), this checkout vs {before}, load {loadavg()}")
    if own_tasks:
        print("  each checkout runs its own task folder (task and oracle as of that checkout)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-step-oracle-"))
    try:
        total_b = total_a = 0.0
        for task in tasks:
            # By default the same task folder (the older checkout's) for both, as tasks
            # change too; an older oracle may not fit today's kit and format, hence
            # --own-tasks.
            folder = before / "tasks" / "suite" / task
            b = oracle_agent_seconds(before, folder, tmp / f"before-{task}")
            mine = ROOT / "tasks" / "suite" / task if own_tasks else folder
            a = oracle_agent_seconds(ROOT, mine, tmp / f"after-{task}")
            steps = json.loads((tmp / f"after-{task}" / "episode.json").read_text())["phases"]
            n = steps["agent"].get("steps", "?")
            verdicts = "/".join(
                "pass"
                if json.loads((tmp / f"{w}-{task}" / "score.json").read_text())["passed"]
                else "FAIL"
                for w in ("before", "after")
            )
            total_b, total_a = total_b + b, total_a + a
            print(
                f"  {task:30} before {b:6.1f} s  after {a:6.1f} s  {b / a:5.1f}x faster "
                f"({n} steps; oracle {verdicts})"
            )
        print(
            f"  {'total':30} before {total_b:6.1f} s  after {total_a:6.1f} s  "
            f"{total_b / total_a:5.1f}x faster   load {loadavg()}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40, help="GUI steps timed per front end")
    ap.add_argument("--rounds", type=int, default=200, help="shell round trips timed")
    ap.add_argument("--before", type=Path, help="a checkout to compare the oracle's time with")
    ap.add_argument("--tasks", default=",".join(PHONE_TASKS))
    ap.add_argument("--oracle-only", action="store_true", help="only the --before comparison")
    ap.add_argument(
        "--own-tasks", action="store_true", help="each checkout runs its own task folders"
    )
    args = ap.parse_args()
    print(f"load average at start: {loadavg()}")
    if args.oracle_only and args.before:
        bench_oracle(args.before.resolve(), [t for t in args.tasks.split(",") if t], args.own_tasks)
        return
    env_steps, shell_ratio = bench_gui(args.steps, args.rounds, True)
    ok = statistics.median(env_steps) <= 150 and pct(env_steps, 0.9) <= 250
    print(
        f"targets: shell <= 3x raw: {'met' if shell_ratio <= 3 else 'MISSED'}; "
        f"TaskEnv GUI step median <= 150 ms, p90 <= 250 ms: {'met' if ok else 'MISSED'}"
    )
    if args.before:
        bench_oracle(args.before.resolve(), [t for t in args.tasks.split(",") if t], args.own_tasks)
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    main()
