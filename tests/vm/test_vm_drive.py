"""A real restored VM driven over SSH: commands, the persistent shell, SFTP, serial, clock."""

from __future__ import annotations

import os
import shlex
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.vm.conftest import SERVICE_GUEST_PORT

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


def test_restored_from_snapshot_and_verified(laptop):
    assert laptop.boot.mode == "restore", laptop.boot.as_dict()
    assert laptop.boot.fallback_reason is None
    out = laptop.exec("cat /etc/clawrig-snapshot; uname -s; id -un")
    assert out.stdout.splitlines() == [laptop.boot.snapshot, "Linux", "user"]


def test_exit_codes_and_streams(laptop):
    r = laptop.exec("echo out; echo err >&2; exit 42")
    assert (r.stdout, r.stderr, r.exit_code) == ("out\n", "err\n", 42)
    assert laptop.shell("false").exit_code == 1
    assert laptop.shell("(exit 3)").exit_code == 3
    r = laptop.shell("echo 'a b'; printf 'no newline' >&2")
    assert (r.stdout, r.stderr, r.exit_code) == ("a b\n", "no newline", 0)


def test_persistent_shell_keeps_cwd_and_variables(laptop):
    laptop.shell("mkdir -p /tmp/work/sub && cd /tmp/work/sub && export GREETING='hi there'")
    r = laptop.shell('pwd; echo "$GREETING"')
    assert r.stdout == "/tmp/work/sub\nhi there\n"
    assert r.cwd == "/tmp/work/sub"
    assert laptop.prompt == "user@127.0.0.1:/tmp/work/sub$ "
    laptop.shell("cd ~")
    assert laptop.prompt.endswith(":~$ ")


def test_shell_survives_a_command_that_exits(laptop):
    r = laptop.shell("exit 5")
    assert r.exit_code == 5
    assert laptop.shell("echo back").stdout == "back\n"


def test_shell_command_reading_stdin_does_not_hang(laptop):
    r = laptop.shell("cat; echo done", timeout=10)
    assert r.stdout == "done\n" and not r.timed_out


def test_timeout_kills_a_hanging_command(laptop):
    started = time.monotonic()
    r = laptop.exec("sleep 60; echo never", timeout=2)
    assert r.timed_out and r.exit_code == 124 and "never" not in r.stdout
    assert time.monotonic() - started < 15
    # The persistent shell: killed, and the shell itself lives on with its cwd.
    laptop.shell("cd /var")
    r = laptop.shell("sleep 60", timeout=2)
    assert r.timed_out and r.exit_code == 124
    assert "timed out" in r.stderr
    after = laptop.shell("pwd")
    assert after.stdout == "/var\n"
    assert laptop.exec("pgrep -x sleep || true").stdout == ""


def test_huge_output_is_capped_and_the_real_status_kept(laptop):
    r = laptop.exec("head -c 3000000 /dev/zero | tr '\\0' x; exit 7", output_cap=100_000)
    assert r.truncated and len(r.stdout_bytes) == 100_000 and r.exit_code == 7
    assert set(r.stdout) == {"x"}
    r = laptop.shell("seq 1 400000")  # about 2.6 MB against the 64 KiB default cap
    assert r.truncated and r.exit_code == 0
    assert r.stdout.startswith("1\n2\n3\n") and len(r.stdout_bytes) == laptop.output_cap
    assert laptop.shell("echo still fine").stdout == "still fine\n"


def test_sftp_round_trips_binary_files(laptop):
    data = os.urandom(2 * 1024 * 1024) + bytes(range(256))
    laptop.write_file("/home/user/blob.bin", data, mode=0o600)
    assert laptop.read_file("/home/user/blob.bin") == data
    assert "blob.bin" in laptop.list_dir("/home/user")
    r = laptop.exec("stat -c '%a %U' /home/user/blob.bin; sha256sum < /home/user/blob.bin")
    import hashlib

    mode, digest = r.stdout.splitlines()
    assert mode == "600 user"
    assert digest.split()[0] == hashlib.sha256(data).hexdigest()
    # Files only root can read come back too.
    assert laptop.read_file("/etc/shadow").startswith(b"root:")


def test_serial_console_login_with_pexpect(laptop):
    console = laptop.serial_console()
    try:
        out, code = console.run("echo serial-ok; id -u")
        assert (out.strip().splitlines(), code) == (["serial-ok", "0"], 0)
        out, code = console.run("false")
        assert code == 1
    finally:
        console.close()


def test_clock_is_set_to_the_tasks_now_and_zone(laptop):
    now = datetime(2026, 3, 14, 9, 26, 53, tzinfo=ZoneInfo("Europe/Paris"))
    laptop.set_clock(now, "Europe/Paris")
    r = laptop.exec("date +%s; date +%Z; cat /etc/timezone; date '+%Y-%m-%d %H:%M'")
    epoch, zone, tzfile, local = r.stdout.splitlines()
    assert abs(int(epoch) - now.timestamp()) < 5
    assert (zone, tzfile, local) == ("CET", "Europe/Paris", "2026-03-14 09:26")
    assert laptop.shell("date +%Y").stdout == "2026\n"


def test_bad_clock_input_is_a_clear_error(laptop):
    from linux_vm.errors import LinuxInputError

    with pytest.raises(LinuxInputError, match="timezone"):
        laptop.set_clock(datetime.now(ZoneInfo("UTC")), "Mars/Olympus")
    with pytest.raises(LinuxInputError, match="timezone-aware"):
        laptop.set_clock(datetime(2026, 1, 1), "UTC")


def _connect(device, host: str, port: int) -> str:
    prog = (
        "import socket, sys\n"
        "try:\n"
        "    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)\n"
        "    print(s.recv(100).decode().strip())\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)\n"
    )
    return device.exec(f"python3 -c {shlex.quote(prog)} {host} {port}").stdout.strip()


def test_network_reaches_forwarded_services_only(laptop, listeners, vm_backend):
    service, private = listeners["service"], listeners["private"]
    assert _connect(laptop, vm_backend.service_address, SERVICE_GUEST_PORT) == (
        "hello from service"
    )
    assert service.accepted >= 1
    # The host's loopback listener that is not a world service stays unreachable.
    assert _connect(laptop, "10.0.2.2", private.port).startswith("refused")
    assert private.accepted == 0


def test_read_state_queries(laptop):
    laptop.exec("printf 'abc' > /tmp/q.txt")
    assert laptop.read_state({"kind": "file", "path": "/tmp/q.txt"}) == b"abc"
    digest = laptop.read_state({"kind": "sha256", "path": "/tmp/q.txt"})
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    out = laptop.read_state({"kind": "command", "command": "echo hi; exit 3"})
    assert out == {"stdout": "hi\n", "stderr": "", "exit_code": 3}
    assert "q.txt" in laptop.read_state({"kind": "list_dir", "path": "/tmp"})
    from linux_vm.errors import LinuxInputError

    with pytest.raises(LinuxInputError, match="invalid Linux state query"):
        laptop.read_state({"kind": "registry", "path": "/"})


def test_answers_the_state_queries_every_device_shares(laptop):
    from tests.state_vocabulary import assert_shared_kinds

    assert_shared_kinds(laptop, "/home/user")


def test_meets_the_world_contracts(laptop, vm_backend, rig_config):
    from rig.world import Backend, LinuxDevice, ShellOutput, make_backend

    assert isinstance(laptop, LinuxDevice)
    assert isinstance(laptop.shell("true"), ShellOutput)
    assert isinstance(vm_backend, Backend)
    assert make_backend("linux", "qemu", rig_config).name == "qemu"
    assert make_backend("linux", "attach", rig_config).kind == "linux"


def test_root_programs_go_to_the_resident_helper(laptop):
    """The image's root helper answers over SSH port forwarding: no sudo, no python start."""
    r = laptop.privileged_python("import os; print(os.geteuid(), os.getcwd())", timeout=30)
    assert (r.stdout, r.exit_code) == ("0 /\n", 0)
    assert laptop._helper is not None and laptop._helper.resident is True
    # It runs as root, but is only for whoever holds the token (mode 0600, root's).
    listing = laptop.exec("stat -c '%a %U' /etc/clawrig/helper.token").stdout
    assert listing == "600 root\n"


def test_resident_helper_refuses_a_wrong_token_and_programs_fall_back_to_sudo(laptop):
    from linux_vm.errors import DeviceLost
    from linux_vm.helper import GuestPython

    wrong = GuestPython(laptop.session, "not-the-token")
    assert wrong.open_resident()  # the port answers ...
    with pytest.raises(DeviceLost, match="exited"):
        wrong.run("print('no')", timeout=20)  # ... and hangs up on a stranger
    # Without a token (an attached host), programs run under a sudo-started helper.
    plain = GuestPython(laptop.session)
    try:
        r = plain.run("import os; print(os.geteuid())", timeout=60)
        assert (r.stdout, plain.resident) == ("0\n", False)
    finally:
        plain.close()


def test_tree_hashes_in_one_round_trip_name_what_the_users_find_names(laptop):
    """The helper's walk (as the user, not root) against ``find | sha256sum`` as the user:
    odd names, links (not followed), a file the user cannot read, a root-only folder."""
    from linux_vm import readers

    base = "/home/user/clawrig-trees"
    made = laptop.exec(
        f"rm -rf {base}; mkdir -p '{base}/sub dir/deep' {base}/empty && cd {base}"
        " && printf abc > a.txt && printf '%s' \"it's \\$x 50% 😀\" > 'sub dir/日本 $x.md'"
        " && head -c 2000000 /dev/urandom > 'sub dir/deep/big.bin'"
        " && ln -s a.txt link-to-file && ln -s 'sub dir' link-to-dir && mkfifo fifo"
        " && printf secret > unreadable && chmod 000 unreadable"
    )
    assert made.exit_code == 0, made.stderr
    root_only = laptop.privileged(f"mkdir -m 700 {base}/rootonly && touch {base}/rootonly/x")
    assert root_only.exit_code == 0, root_only.stderr
    roots = ["~/clawrig-trees", f"{base}/sub dir", f"{base}/link-to-dir", "~/clawrig-none"]
    both = readers.trees_hashes(laptop, roots)
    for root in roots:
        assert both[root] == readers.find_tree_hashes(laptop, root), root
        assert readers.tree_hashes(laptop, root) == both[root]
    assert sorted(both["~/clawrig-trees"]) == [
        f"{base}/a.txt",
        f"{base}/sub dir/deep/big.bin",
        f"{base}/sub dir/日本 $x.md",
    ]
    laptop.privileged(f"rm -rf {base}")


def test_files_read_from_many_threads_at_once_come_back_whole(laptop):
    """One SSH session serves the safety baseline, the state snapshot, live deliveries and
    the agent side by side; paramiko's SFTP client reads replies unlocked, so unguarded
    threads would take each other's replies (a 'Server connection dropped' or a hang)."""
    from concurrent.futures import ThreadPoolExecutor

    blobs = {f"/home/user/par-{i}.bin": os.urandom(96 * 1024 + i) for i in range(6)}
    for path, data in blobs.items():
        laptop.write_file(path, data)

    def read_all(round_: int) -> int:
        done = 0
        for path, data in list(blobs.items())[round_ % 3 :] * 3:
            assert laptop.read_file(path) == data
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sum(pool.map(read_all, range(6))) > 0
    assert laptop.exec("true").exit_code == 0


def _guest_clock(laptop) -> tuple[float, float]:
    """The guest's wall clock and its monotonic clock, read in one go by the root helper."""
    out = laptop.privileged_python(
        "import time\nprint(time.time(), time.clock_gettime(time.CLOCK_MONOTONIC))"
    )
    wall, mono = out.stdout.split()
    return float(wall), float(mono)


def test_the_guest_keeps_its_clock_at_a_speed_until_told_otherwise(laptop):
    """``run_clock(keep=…)`` leaves the resident helper setting the clock by the reckoning,
    so between two host round trips the guest's clock runs 60 times as fast and never
    falls far behind it; ``unkeep_clock`` and any clock request end it."""
    from rig.clock_keeper import guest_interval

    speed, every = 60.0, guest_interval(60.0)
    value, mono = laptop.step_clock(0.0)
    assert laptop.clock_kept is False  # a plain step keeps nothing
    value, mono = laptop.run_clock(value, mono, speed, keep=every)
    assert laptop.clock_kept is True
    lags = []
    for _ in range(20):
        wall, now_mono = _guest_clock(laptop)
        lags.append(value + speed * (now_mono - mono) - wall)  # behind the reckoning
        time.sleep(0.05)
    lags.sort()
    # Each setting is the reckoning; in between the kernel runs at its own rate, so a read
    # finds it up to (speed - 1) x the interval (0.5 s) behind, more when a tick is late.
    assert lags[0] > -0.05, lags
    assert lags[len(lags) // 2] < 0.5, lags
    # A settled read is the reckoning itself (brought there first).
    before = _guest_clock(laptop)[1]
    read = laptop.read_clock()
    after = _guest_clock(laptop)[1]
    assert value + speed * (before - mono) - 0.05 <= read <= value + speed * (after - mono), read

    laptop.unkeep_clock()
    assert laptop.clock_kept is False
    wall0, mono0 = _guest_clock(laptop)
    time.sleep(1.0)
    wall1, mono1 = _guest_clock(laptop)
    assert abs((wall1 - wall0) - (mono1 - mono0)) < 0.1  # the kernel's own rate again

    # Setting the clock (a jump of the world) ends the keeping too.
    value, mono = laptop.run_clock(wall1, mono1, speed, keep=every)
    laptop.set_clock(datetime.now(ZoneInfo("UTC")), "UTC")
    assert laptop.clock_kept is False
    wall0, mono0 = _guest_clock(laptop)
    time.sleep(1.0)
    wall1, mono1 = _guest_clock(laptop)
    assert abs((wall1 - wall0) - (mono1 - mono0)) < 0.1
    assert abs(wall1 - time.time()) < 5


def test_a_guest_program_of_its_own_cannot_keep_the_clock(laptop):
    """Without the resident helper (each program a process of its own) nothing outlives the
    request: the device says so, and the controller keeps trimming it from the host."""
    laptop.use_helper = False
    try:
        value, mono = laptop.step_clock(0.0)
        laptop.run_clock(value, mono, 60.0, keep=0.01)
        assert laptop.clock_kept is False
    finally:
        laptop.use_helper = True
        laptop.set_clock(datetime.now(ZoneInfo("UTC")), "UTC")
