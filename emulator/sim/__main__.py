"""``python -m emulator.sim``: run one virtual phone in the foreground.

Prints three lines on stdout (the adb serial, ``console HOST:PORT``, ``state
DIR``) once both ports listen, then runs until SIGINT/SIGTERM, the console's
``kill`` or, with ``--parent-pid``, the end of the process that started it.
Logs go to stderr. ``spawn_phone`` relies on this output.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.sim", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True, help="the phone's whole state")
    parser.add_argument("--adb-port", type=int, default=0, help="adb transport port (0: free)")
    parser.add_argument("--console-port", type=int, default=0, help="console port (0: free)")
    parser.add_argument("--size", default=None, help="screen WxH in pixels (default 1080x2400)")
    parser.add_argument("--density", type=int, default=None, help="screen dpi (default 420)")
    parser.add_argument("--serial", default=None, help="ro.serialno")
    parser.add_argument("--console-token-file", type=Path, default=None)
    parser.add_argument(
        "--u2-agent",
        choices=("boot", "on-request", "none"),
        default="boot",
        help="uiautomator2's agent: serving from boot (default), started by uiautomator2's "
        "setup as on an AVD, or unable to start",
    )
    parser.add_argument(
        "--snapshot", default=None, help="start from this saved state (like emulator -snapshot)"
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="stop (saving state) once this process is no longer the parent: a phone "
        "started from a worker thread, where PR_SET_PDEATHSIG cannot hold, still dies "
        "with its controller",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from emulator.errors import AndroidError
    from emulator.sim.phone import Phone, serve_forever

    try:
        phone = Phone(
            args.state_dir,
            adb_port=args.adb_port,
            console_port=args.console_port,
            size=args.size,
            density=args.density,
            serial=args.serial,
            console_token_path=args.console_token_file,
            u2_agent=args.u2_agent,
            snapshot=args.snapshot,
        )
        return serve_forever(
            phone, out=lambda line: print(line, flush=True), parent=args.parent_pid
        )
    except (ValueError, KeyError, AndroidError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
