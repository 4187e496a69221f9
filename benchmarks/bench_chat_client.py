"""The laptop's Matrix client: what one matrix-commander call costs beside curl.

Boots a restored VM on a world with chat (Synapse, 300 seeded messages in two rooms),
logs the laptop's matrix-commander in as seeding does, then times inside the guest,
side by side in one run: reading a room's last 10 messages and sending one message,
each with matrix-commander and with the same Matrix request made by curl (the token
from matrix-commander's own credentials file). Prints median and p90 per way and the
ratio matrix-commander / curl: a matrix-commander call is a whole Python program
start (aiohttp, matrix-nio, Pillow) plus its sync, curl one HTTP request.

    python benchmarks/bench_chat_client.py [CALLS]
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from benchmarks.bench_services import NOW, _out
from rig.services.base import Account
from rig.services.stack import ServiceStack
from tasks.compile import compile_stream
from tasks.events import EVENT_ADAPTER

CREDS = "~/.config/matrix-commander/credentials.json"


def _stream(messages: int) -> list:
    raw = [
        {
            "id": f"c{i}",
            "t": (NOW - timedelta(minutes=7 * (messages - i))).isoformat(),
            "kind": "chat.message",
            "target": "service:chat",
            "room": "friends" if i % 2 else "Familie",
            "sender": ("Lena Albrecht", "Jonas Fischer", "Clara Hoffmann")[i % 3],
            "body": f"Nachricht {i}: Kino am Freitag? 😀",
            "outgoing": i % 5 == 0,
        }
        for i in range(messages)
    ]
    return [EVENT_ADAPTER.validate_python(r) for r in raw]


def _timed(vm, label: str, command: str, calls: int) -> list[float]:
    """``command`` run ``calls`` times in the guest (``$I`` is the call's number), each
    timed by the guest's own clock; every call must succeed."""
    script = (
        f"for I in $(seq {calls}); do s=$(date +%s%N); ( {command} ) >/dev/null 2>&1 "
        '|| { echo "FAIL $I"; exit 1; }; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done'
    )
    r = vm.exec(script, timeout=60 * calls)
    lines = r.stdout.split()
    assert r.exit_code == 0 and len(lines) == calls, (label, r.stdout[-300:], r.stderr[-300:])
    return [int(x) / 1e6 for x in lines]


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    from linux_vm.backends import QemuBackend
    from rig.config import RigConfig
    from rig.service_clients import connect_devices
    from rig.world import World

    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    out = _out()
    plans = compile_stream({}, "Europe/Berlin", _stream(300), services=("chat",), now=NOW)
    with ServiceStack(["chat"], out, NOW, [Account("maya")], clients=["laptop"]) as stack:
        stack["chat"].seed(plans.services["chat"])
        backend = QemuBackend(RigConfig().backend_config("linux"), forwards={})
        backend.prepare()
        work = Path(tempfile.mkdtemp(prefix="bench-chat-client-"))
        vm = backend.acquire("laptop", work / "vm")
        try:
            world = World(now=NOW, timezone="Europe/Berlin")
            world.devices["laptop"] = vm
            world.services = dict(stack.services)
            t = time.perf_counter()
            connect_devices(world, "Maya")
            took = time.perf_counter() - t
            print(f"connect_devices (incl. the matrix-commander login): {took:.1f} s")
            creds = json.loads(vm.exec(f"cat {CREDS}").stdout)
            rooms = vm.exec("matrix-commander --joined-rooms", timeout=300).stdout.split()
            room = rooms[0]
            base = f"{creds['homeserver']}/_matrix/client/v3/rooms/{room}"
            auth = f'-H "Authorization: Bearer $(jq -r .access_token {CREDS})"'
            ways = {
                (
                    "read last 10",
                    "matrix-commander",
                ): f"matrix-commander --tail 10 -r {shlex.quote(room)}",
                ("read last 10", "curl"): (
                    f"curl -sf {auth} '{base}/messages?dir=b&limit=10' | jq -e .chunk"
                ),
                ("send one", "matrix-commander"): (
                    f'matrix-commander -m "bench $I" -r {shlex.quote(room)}'
                ),
                ("send one", "curl"): (
                    f'curl -sf -X PUT {auth} -d \'{{"msgtype": "m.text", "body": "bench"}}\' '
                    f'"{base}/send/m.room.message/bench-$(date +%s%N)"'
                ),
            }
            # Alternate the ways round by round, so the machine's load falls on both alike.
            times: dict[tuple[str, str], list[float]] = {k: [] for k in ways}
            for _ in range(calls):
                for key, command in ways.items():
                    times[key] += _timed(vm, " ".join(key), command, 1)
            for what in ("read last 10", "send one"):
                mc, curl = times[(what, "matrix-commander")], times[(what, "curl")]
                for way, lat in (("matrix-commander", mc), ("curl", curl)):
                    lat = sorted(lat)
                    print(
                        f"{what:12} {way:16}: median {statistics.median(lat) * 1000:7.0f} ms, "
                        f"p90 {lat[int(len(lat) * 0.9) - 1] * 1000:7.0f} ms over {len(lat)} calls"
                    )
                ratio = statistics.median(mc) / statistics.median(curl)
                print(f"{what:12} matrix-commander / curl: {ratio:.1f}x")
            sent = [m for m in stack["chat"].messages() if m["body"].startswith("bench")]
            print(f"messages the homeserver holds from the sends: {len(sent)} of {2 * calls}")
        finally:
            backend.release(vm)
            shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(out.parent, ignore_errors=True)
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
