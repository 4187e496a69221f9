"""Start, isolation, failure and clean-up of a world's services (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from hostproc.labels import labelled_processes, start_time
from rig.errors import is_infra
from rig.services.base import ServiceDown
from rig.services.stack import LABEL, ServiceStack, reap_orphans
from tests.services.conftest import NOW, accounts

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    return start_time(pid) is not None and _state(pid) != "Z"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_two_worlds_never_share_a_service(tmp_path, out_dir):
    first = ServiceStack(["mail"], out_dir / "a", NOW, accounts())
    second = ServiceStack(["mail"], out_dir / "b", NOW, accounts())
    with first, second:
        a, b = first["mail"], second["mail"]
        assert {a.imap_port, a.smtp_port}.isdisjoint({b.imap_port, b.smtp_port})
        assert a.account.password != b.account.password
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "x@y.example", a.endpoint()["address"], "only A"
        msg.set_content("secret")
        with a.smtp() as conn:
            conn.send_message(msg)
        assert [m.subject for m in a.messages(("INBOX",))] == ["only A"]
        assert b.messages(("INBOX",)) == [] and b.outbox() == []
        with pytest.raises(ServiceDown), b.imap(a.account):  # A's credentials do not open B
            pass


def test_a_service_killed_mid_episode_is_an_infra_error(out_dir):
    with ServiceStack(["mail", "calendar"], out_dir, NOW, accounts()) as stack:
        stack.check_alive()
        os.kill(stack.ports["mail"]["dovecot_pid"], signal.SIGKILL)
        with pytest.raises(ServiceDown) as err:
            stack.check_alive()
        assert err.value.service == "mail" and is_infra(err.value)
        assert "dovecot" in str(err.value).lower() or "IMAP" in str(err.value)
        with pytest.raises(ServiceDown):
            stack["mail"].messages()


def test_a_service_that_does_not_come_up_names_itself_and_its_log(out_dir, monkeypatch):
    monkeypatch.setenv("CLAWRIG_DOVECOT", "/bin/false")
    stack = ServiceStack(["calendar", "mail"], out_dir, NOW, accounts())
    with pytest.raises(ServiceDown) as err:
        stack.start()
    assert err.value.service == "mail" and is_infra(err.value)
    assert "did not come up" in str(err.value)
    assert stack.process is not None and stack.process.poll() is not None
    assert stack.runtime is None


def test_unknown_service_is_refused_before_anything_starts(out_dir):
    with pytest.raises(ValueError, match="unknown service 'fax'"):
        ServiceStack(["mail", "fax"], out_dir, NOW, accounts())
    assert not out_dir.exists()


def test_stop_leaves_no_process_and_no_port(out_dir):
    stack = ServiceStack(["mail", "calendar", "contacts"], out_dir, NOW, accounts())
    stack.start()
    host = stack.process.pid
    dovecot = stack.ports["mail"]["dovecot_pid"]
    family = [host, dovecot, *_children(dovecot)]
    ports = [stack["mail"].imap_port, stack["mail"].smtp_port, stack["calendar"].port]
    runtime = stack.runtime
    stack.stop()
    assert _gone(family)
    assert not runtime.exists()
    import socket

    for port in ports:
        with socket.socket() as s, pytest.raises(OSError):
            s.connect(("127.0.0.1", port))
    assert (out_dir / "mail" / "maildir" / "maya" / "INBOX").is_dir()  # the state stays


CONTROLLER = textwrap.dedent(
    """
    import json, sys, threading
    from datetime import datetime, timezone
    from pathlib import Path
    from rig.services.base import Account
    from rig.services.stack import ServiceStack

    def start():
        s = ServiceStack(["mail", "calendar"], Path(sys.argv[1]),
                         datetime(2026, 3, 16, tzinfo=timezone.utc), [Account("maya")])
        s.start()
        print(json.dumps({"host": s.process.pid, "dovecot": s.ports["mail"]["dovecot_pid"]}),
              flush=True)

    if sys.argv[2] == "thread":  # no PDEATHSIG from a worker thread: the host watches its parent
        t = threading.Thread(target=start); t.start(); t.join()
    else:
        start()
    threading.Event().wait()
    """
)


@pytest.mark.parametrize("where", ["main", "thread"])
def test_sigkill_of_the_controller_leaves_no_service_process(out_dir, where):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CONTROLLER, str(out_dir), where],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        pids = json.loads(proc.stdout.readline())
        family = [pids["host"], pids["dovecot"], *_children(pids["dovecot"])]
        assert all(_alive(p) for p in family[:2])
        proc.kill()
        proc.wait(5)
        assert _gone(family), [p for p in family if _alive(p)]
    finally:
        proc.kill()
        proc.wait(5)


def test_reaper_kills_a_host_whose_controller_is_gone(out_dir):
    # A host labelled with a dead owner (as after a kill between fork and exec) is reaped.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    label = f"{LABEL}:feedfacefeed:{dead.pid}:0"
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", label], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 5
        while orphan.pid not in {h.pid for h in labelled_processes(LABEL)}:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        stopped = reap_orphans()
        # Every episode on the machine reaps when it starts: another may have been first.
        assert orphan.pid in stopped or orphan.wait(5) is not None
        orphan.wait(5)
    finally:
        orphan.kill()
        orphan.wait(5)


def test_each_device_role_has_its_own_ports_and_the_audit_names_it(out_dir):
    import http.client
    import imaplib
    import smtplib
    from base64 import b64encode

    stack = ServiceStack(
        ["mail", "calendar"], out_dir, NOW, accounts(), clients=["phone", "laptop"]
    )
    with stack:
        mail, cal = stack["mail"], stack["calendar"]
        ports = [mail.imap_port, mail.smtp_port, cal.port]
        for role in ("phone", "laptop"):
            ports += [*mail.ports_for(role).values(), cal.port_for(role)]
        assert len(set(ports)) == len(ports) == 9
        maya = mail.account
        conn = imaplib.IMAP4("127.0.0.1", mail.ports_for("phone")["imap"])
        conn.login(maya.user, maya.password)
        conn.select("INBOX")
        conn.logout()
        with smtplib.SMTP("127.0.0.1", mail.ports_for("laptop")["smtp"]) as smtp:
            smtp.login(maya.user, maya.password)
            smtp.sendmail(maya.addresses[0], [maya.addresses[0]], b"Subject: x\r\n\r\ny\r\n")
        dav = http.client.HTTPConnection("127.0.0.1", cal.port_for("laptop"))
        token = b64encode(f"{maya.user}:{maya.password}".encode()).decode()
        dav.request("PROPFIND", cal.path(), headers={"Authorization": f"Basic {token}"})
        assert dav.getresponse().status == 207
        assert cal.endpoint("phone")["url"].startswith(f"http://127.0.0.1:{cal.port_for('phone')}/")
        with pytest.raises(KeyError, match="roles: laptop, phone"):
            mail.ports_for("tablet")
        by_client = {}
        for r in mail.audit() + cal.audit():
            by_client.setdefault(r["client"], set()).add(r["op"])
        assert {"IMAP LOGIN", "IMAP SELECT"} <= by_client["phone"]
        assert {"SMTP AUTH", "SMTP MAIL", "SMTP DATA", "DAV PROPFIND"} <= by_client["laptop"]
        rig = [c for c in by_client if c not in ("phone", "laptop")]
        assert rig and all(c.startswith("127.0.0.1:") for c in rig)  # the rig's own health checks


def test_a_relative_episode_folder_still_brings_mail_up(out_dir, monkeypatch):
    # `rig tasks validate` writes to runs/validate, relative to the caller's directory;
    # Dovecot runs elsewhere and could not open a relative log path.
    monkeypatch.chdir(out_dir.parent)
    with ServiceStack(["mail"], Path("services"), NOW, accounts()) as stack:
        stack["mail"].health()
        with stack["mail"].imap() as imap:
            assert imap.noop()[0] == "OK"
    assert (out_dir / "mail" / "dovecot.log").exists()


def _send(mail, subject: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "x@y.example", mail.endpoint()["address"], subject
    msg.set_content(subject)
    with mail.smtp() as conn:
        conn.send_message(msg)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_parked_host_serves_the_next_world_from_a_save_in_place(out_dir):
    """A suite worker's next trial: the same host process serves the saved state in the
    new world's folder; the last world's folder is final from the park on."""
    names = ["mail", "calendar"]
    first = ServiceStack(names, out_dir / "t1", NOW, accounts())
    first.start()
    _send(first["mail"], "seeded")
    first.save_state(out_dir / "saved")
    _send(first["mail"], "the agent's")  # what trial 1 did after the save
    host, old_dovecot = first.process.pid, first.ports["mail"]["dovecot_pid"]
    old_ports = {first["mail"].imap_port, first["calendar"].port}
    old_runtime = first.runtime
    assert first.park() and first.parked and _alive(host)
    assert _gone([old_dovecot])  # the last world's servers are closed
    record = _tree(out_dir / "t1")
    second = ServiceStack(names, out_dir / "t2", NOW, accounts(), saved=out_dir / "saved")
    try:
        second.launch(adopt=first)
        second.wait_ready()
        assert second.process.pid == host and first.process is None
        assert not old_runtime.exists()
        assert [m.subject for m in second["mail"].messages(("INBOX",))] == ["seeded"]
        assert second["calendar"].events() == []
        assert old_ports.isdisjoint({second["mail"].imap_port, second["calendar"].port})
        assert (out_dir / "t2" / "host.log").is_file()
        assert _tree(out_dir / "t1") == record  # nothing written into trial 1's record
        first.stop()  # the old controller lets go of nothing it no longer holds
        assert _alive(host)
    finally:
        second.stop()
    assert _gone([host])


def test_a_host_that_will_not_park_is_stopped(out_dir):
    stack = ServiceStack(["mail"], out_dir, NOW, accounts())
    stack.start()
    host = stack.process.pid
    stack.process.stdin.close()  # its controller closed the way in: the host ends itself
    assert _gone([host])
    assert not stack.park() and stack.runtime is None
    fresh = ServiceStack(["mail"], out_dir / "next", NOW, accounts())
    try:
        fresh.launch(adopt=stack)  # nothing to adopt: a host of its own
        fresh.wait_ready()
        assert fresh.process.pid != host and fresh["mail"].messages(("INBOX",)) == []
    finally:
        fresh.stop()
