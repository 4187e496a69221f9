"""The agent's terminal: keys-to-screen latency on a real VM, and drawing 1 MB of output.

Measured side by side in one run:

* keys to screen: a character typed into the pty until the host's screen shows its echo,
  and ``echo TOKEN`` + Enter until the screen shows the command's output (target < 50 ms
  median), beside the persistent shell action's round trip for the same command;
* the whole ``terminal_keys`` action (which waits for 150 ms of quiet after the answer);
* 1 MB of output on the screen: host only (pyte, plain and coloured text, with the
  scrollback/alternate-screen screen vs pyte's own), and end to end (``cat`` of a 1 MB
  file in the VM until the prompt is back on the host's screen).

    .venv/bin/python benchmarks/bench_terminal.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyte

from linux_vm.backends import QemuBackend
from linux_vm.terminal import TerminalScreen, _stream
from rig import actions as A
from rig.config import RigConfig
from rig.env import Env
from rig.world import World


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(len(values) * 0.9) - 1] if len(values) >= 10 else values[-1]
    return f"median {statistics.median(values) * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms"


def _output(size: int, colour: bool) -> str:
    lines, total, i = [], 0, 0
    while total < size:
        line = f"{i:07d} some log text, a path /var/log/app/{i % 97}.log and a value {i * 7}"
        if colour:
            line = f"\x1b[3{i % 8}m{line[:20]}\x1b[0m{line[20:]}\x1b[1m!\x1b[0m"
        lines.append(line + "\r\n")
        total += len(line) + 2
        i += 1
    return "".join(lines)


def host_render(size: int) -> None:
    for colour in (False, True):
        text = _output(size, colour)
        chunks = [text[i : i + 32768] for i in range(0, len(text), 32768)]
        times = {}
        for name, make in (
            ("pyte.Screen", lambda: pyte.Stream(pyte.Screen(120, 40))),
            ("TerminalScreen", lambda: _stream(TerminalScreen(120, 40))),
        ):
            best = float("inf")
            for _ in range(3):
                stream = make()
                t0 = time.perf_counter()
                for chunk in chunks:
                    stream.feed(chunk)
                best = min(best, time.perf_counter() - t0)
            times[name] = best
        kind = "coloured" if colour else "plain   "
        print(
            f"  1 MB {kind}: pyte.Screen {times['pyte.Screen']:.2f} s, TerminalScreen "
            f"{times['TerminalScreen']:.2f} s ({len(text) / times['TerminalScreen'] / 1e6:.2f} "
            f"MB/s; ratio {times['TerminalScreen'] / times['pyte.Screen']:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print("screen rendering (host only, best of 3):")
    host_render(1_000_000)

    backend = QemuBackend(RigConfig().backend_config("linux"), progress=lambda m: None)
    with tempfile.TemporaryDirectory() as tmp:
        laptop = backend.acquire("laptop", Path(tmp))
        try:
            term = laptop.terminal()
            # Warm up: the first commands of a new shell are slower (page cache, bash start).
            for i in range(5):
                term.keys([f"echo warm{i}''x", "Enter"])
                term.wait(until=f"warm{i}x", timeout=10)

            chars, echoes, shells, actions = [], [], [], []
            for i in range(args.rounds):
                mark = f"k{i:03d}"
                t0 = time.perf_counter()
                term.send(f"#{mark}")
                term.wait(until=f"#{mark}", timeout=10)
                chars.append(time.perf_counter() - t0)
                term.send("\x15")  # C-u: drop the typed line
                term.wait(quiet=0.05, timeout=2)

                token = f"tok{i:03d}"
                t0 = time.perf_counter()
                term.keys([f"echo {token}''z", "Enter"])
                term.wait(until=f"\n{token}z", timeout=10)
                echoes.append(time.perf_counter() - t0)

                t0 = time.perf_counter()
                laptop.shell(f"echo {token}")
                shells.append(time.perf_counter() - t0)

            env = Env(World(devices={"laptop": laptop}), "bench")
            for i in range(min(args.rounds, 20)):
                t0 = time.perf_counter()
                env.step(A.TerminalKeys(device="laptop", keys=[f"echo act{i}", "Enter"]))
                actions.append(time.perf_counter() - t0)

            print(f"keys to screen ({args.rounds} rounds):")
            print(f"  one character, echoed by the pty: {_ms(chars)}")
            print(f"  `echo TOKEN` + Enter, output shown: {_ms(echoes)}")
            print(f"  same command, persistent shell action: {_ms(shells)}")
            print(
                f"  ratio terminal/shell: "
                f"{statistics.median(echoes) / statistics.median(shells):.2f}x"
            )
            print(f"  whole terminal_keys action (150 ms quiet wait): {_ms(actions)}")

            laptop.exec("seq -f 'line %07g of the one-megabyte file, padded' 1 20000 > /tmp/1mb")
            size = int(laptop.exec("stat -c %s /tmp/1mb").stdout)
            runs = []
            for i in range(3):
                before = term.bytes_in
                t0 = time.perf_counter()
                term.keys([f"cat /tmp/1mb; echo done{i}''y", "Enter"])
                term.wait(until=f"\ndone{i}y", timeout=120)
                runs.append(time.perf_counter() - t0)
                got = term.bytes_in - before
            best = min(runs)
            print(
                f"end to end: cat of {size / 1e6:.2f} MB until the prompt is back: "
                f"best {best:.2f} s of {[round(r, 2) for r in runs]} "
                f"({got / best / 1e6:.2f} MB/s through SSH + pyte)"
            )
        finally:
            backend.release(laptop)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
