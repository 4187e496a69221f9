"""The conformance battery: every assumption the rig makes about a device, as named
checks with pass/fail and evidence (``rig doctor --android/--linux`` and
``tests/conformance``).

Each check drives the device only through the rig's own paths (seeding with its
read-back verification, the readers, the action methods), so a device that
answers them differently from what the rig expects fails the check that names the
assumption, with what was expected and what came back.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rig.config import RigConfig
from rig.world import Device, make_backend

# Quotes, shell and printf metacharacters, backslashes, emoji (with a ZWJ), CJK.
HOSTILE = 'Zoë "Z" O\'Neil $HOME `id` $(true) %s %n \\n 100% 🦊👩\u200d💻 张伟'
HOSTILE_LINES = HOSTILE + "\nsecond line\twith tab"
CLOCK_AT = datetime(2026, 3, 16, 9, 30, 15, tzinfo=ZoneInfo("Europe/Berlin"))
CLOCK_TZ = "Europe/Berlin"
# The contacts app's "new contact" button: the virtual phone's, AOSP's and Google's.
_ADD_CONTACT = ("Add contact", "Create contact", "Create new contact")


@dataclass
class Check:
    name: str
    ok: bool
    evidence: str
    seconds: float = 0.0


class CheckFailed(AssertionError):
    """A check's expectation did not hold; the message is the evidence."""


def expect(cond: bool, evidence: str) -> None:
    if not cond:
        raise CheckFailed(evidence)


def _run(name: str, fn: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        evidence = fn()
        ok = True
    except CheckFailed as exc:
        evidence, ok = str(exc), False
    except Exception as exc:  # the device answered wrongly or not at all: that is the finding
        last = traceback.extract_tb(exc.__traceback__)[-1]
        evidence = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
        ok = False
    return Check(name, ok, evidence.strip()[:600], round(time.monotonic() - started, 2))


# -- Android ---------------------------------------------------------------------------


def android_checks(device: Any) -> list[tuple[str, Callable[[], str]]]:
    """The battery for an :class:`~emulator.device.AdbAndroidDevice`, in order."""
    from emulator.seeding.records import (
        Alarm,
        AlarmStore,
        CalendarEvent,
        Call,
        Contact,
        FileItem,
        SeedPlan,
        Sms,
    )

    when = datetime(2026, 3, 14, 18, 5, tzinfo=UTC)

    def seed(plan: SeedPlan) -> str:
        digest = device.seed(plan)  # seeds, reads back and compares (SeedMismatch if not)
        return f"seeded and read back, digest {str(dict(digest).get('digest', ''))[:12]}"

    def screen() -> str:
        w, h = device.window_size()
        expect(w > 0 and h > 0, f"wm size gave {w}x{h}")
        shot = device.screenshot()
        expect(shot.size == (w, h), f"screenshot is {shot.size[0]}x{shot.size[1]}, wm size {w}x{h}")
        return f"{w}x{h}, screenshot the same"

    def shot(path: str) -> Callable[[], str]:
        def check() -> str:
            w, h = device.window_size()
            img = device.screenshot(path)
            expect(img.size == (w, h), f"{path}: {img.size}, wm size {(w, h)}")
            lo, hi = img.convert("L").getextrema()
            expect(hi > lo, f"{path}: a blank frame (all pixels {lo})")
            return f"{path}: {img.size[0]}x{img.size[1]}, pixel range {lo}..{hi}"

        return check

    def clock() -> str:
        device.set_clock(CLOCK_AT, CLOCK_TZ)
        raw = device.shell("date +%s").stdout.strip()
        expect(raw.isdigit(), f"`date +%s` printed {raw!r}, not epoch seconds")
        drift = abs(int(raw) - int(CLOCK_AT.timestamp()))
        expect(drift <= 120, f"set {CLOCK_AT.isoformat()}, device says {raw} ({drift}s off)")
        tz = device.shell("getprop persist.sys.timezone").stdout.strip()
        expect(tz == CLOCK_TZ, f"time zone set {CLOCK_TZ!r}, getprop says {tz!r}")
        local = device.shell("date +%H:%M").stdout.strip()
        want = datetime.fromtimestamp(int(raw), ZoneInfo(CLOCK_TZ)).strftime("%H:%M")
        expect(local == want, f"`date +%H:%M` is {local!r}; in {CLOCK_TZ} it is {want!r}")
        return f"epoch {raw} ({drift}s from set), zone {tz}, local {local}"

    def contacts() -> str:
        c = Contact(HOSTILE, phones=["+49 30 901820", "0151-234 567 89", "+1 (202) 555-0147"])
        c2 = Contact("Ada Lovelace", phones=["+44 20 7946 0018"], note=HOSTILE_LINES)
        seed(SeedPlan(contacts=[c, c2]))
        got = [r for r in device.read_state({"kind": "contacts"}) if r.name == HOSTILE]
        expect(len(got) == 1, f"contacts reader found {len(got)} contacts named {HOSTILE!r}")
        expect(got[0].phones == c.phones, f"phones {c.phones} came back as {got[0].phones}")
        return "2 contacts, 3 numbers on one, name and numbers read back exactly"

    def sms() -> str:
        plan = SeedPlan(
            sms=[
                Sms("+49 30 901820", HOSTILE_LINES, when, box="inbox"),
                Sms("+49 30 901820", "reply " + HOSTILE, when + timedelta(minutes=1), box="sent"),
                Sms("12345", "code 4711", when + timedelta(minutes=2), read=False),
            ]
        )
        seed(plan)
        rows = device.read_state(
            {"kind": "provider", "uri": "content://sms", "projection": ["body", "thread_id"]}
        )
        bodies = [r["body"] for r in rows]
        expect(HOSTILE_LINES in bodies, f"body not read back byte for byte; got {bodies!r}")
        threads = {r["thread_id"] for r in rows if "901820" in str(r)} or {
            r["thread_id"] for r in rows if r["body"] in (HOSTILE_LINES, "reply " + HOSTILE)
        }
        expect(len(threads) == 1, f"one number's messages in {len(threads)} threads: {threads}")
        return f"{len(rows)} messages, one thread for the two of +49 30 901820"

    def calls() -> str:
        seed(
            SeedPlan(
                calls=[
                    Call("+49 30 901820", when, 75, "incoming"),
                    Call("+1 202 555 0147", when + timedelta(hours=1), 0, "missed"),
                ]
            )
        )
        return "incoming and missed calls seeded and read back"

    def calendar() -> str:
        start = datetime(2026, 3, 20, 8, 0, tzinfo=ZoneInfo("America/New_York"))
        seed(
            SeedPlan(
                events=[
                    CalendarEvent(
                        HOSTILE,
                        start,
                        start + timedelta(hours=1),
                        description=HOSTILE_LINES,
                        location='Café "Ü" 1st floor',
                        timezone="America/New_York",
                        reminders=[10],
                    ),
                    CalendarEvent(
                        "Physio",
                        start,
                        start + timedelta(minutes=45),
                        timezone="Europe/Berlin",
                        rrule="FREQ=WEEKLY;COUNT=4",
                    ),
                ]
            )
        )
        return "one event (America/New_York) and a weekly series (Europe/Berlin) read back"

    def alarms() -> str:
        store = AlarmStore(db=None)  # the device says where its clock app keeps them
        seed(SeedPlan(alarms=[Alarm(6, 45, HOSTILE, days=0b11111)], alarm_store=store))
        return "alarm with a hostile label seeded and read back"

    def files() -> str:
        mtime = datetime(2025, 12, 24, 17, 30, 5, tzinfo=UTC)
        data = HOSTILE_LINES.encode() + bytes(range(256))
        path = "/sdcard/Download/conformance/" + "notes 'ü' $x.txt"
        seed(SeedPlan(files=[FileItem(path, data, mtime=mtime)]))
        back = device.read_state({"kind": "file", "path": path})
        expect(back == data, f"{len(data)} bytes written, {len(back)} different bytes read")
        sha = device.read_state({"kind": "sha256", "path": path})
        expect(sha == hashlib.sha256(data).hexdigest(), f"sha256 reader said {sha}")
        return f"{len(data)} bytes (every byte value) and mtime {mtime.isoformat()} kept"

    def tar() -> str:
        listing = device.shell(
            "cd /data/local/tmp && rm -rf tarc && mkdir -p tarc/a && echo x > tarc/a/f && "
            "touch -d @1700000000 tarc/a/f && tar -cf tarc.tar tarc && rm -rf tarc && "
            "tar -xf tarc.tar && stat -c %Y tarc/a/f && cat tarc/a/f && rm -rf tarc tarc.tar"
        )
        lines = listing.stdout.split()
        expect(
            listing.exit_code == 0 and lines == ["1700000000", "x"],
            f"tar round trip gave exit {listing.exit_code}, output {listing.stdout!r}",
        )
        return "tar -c then tar -x kept the file and its mtime 1700000000"

    def dump() -> str:
        xml = device.ui_tree()
        root = ET.fromstring(xml.encode())
        nodes = root.findall(".//node")
        expect(root.tag == "hierarchy" and nodes, f"dump root {root.tag!r}, {len(nodes)} nodes")
        bounds = [n.get("bounds", "") for n in nodes]
        expect(all(b.startswith("[") for b in bounds), f"nodes without bounds: {bounds[:5]}")
        return f"{len(nodes)} nodes, focus {device.current_app()}"

    def taps_and_keys() -> str:
        settings = app_package(device, "settings")
        device.launch(settings)
        before = device.current_app()
        expect(before[0] == settings, f"launch settings: focus {before}")
        root = ET.fromstring(device.ui_tree().encode())
        # A list row that opens a page: clickable, below the top quarter (not a toolbar),
        # with a label inside.
        height = device.window_size()[1]
        target = next(
            (
                n
                for n in root.iter("node")
                if n.get("clickable") == "true"
                and n.get("package") == settings
                and _bounds(n)[1] > height // 4
                and any(c.get("text") for c in n.iter("node"))
                # not a switch: toggling airplane mode on a lent phone is not a check's business
                and not any(c.get("checkable") == "true" for c in n.iter("node"))
            ),
            None,
        )
        expect(target is not None, "settings shows no clickable row with a label")
        assert target is not None
        x1, y1, x2, y2 = _bounds(target)
        label = next(c.get("text") for c in target.iter("node") if c.get("text"))
        device.tap((x1 + x2) // 2, (y1 + y2) // 2)
        time.sleep(0.5)
        after = device.current_app()
        tree_after = device.ui_tree()
        expect(
            after != before or tree_after != ET.tostring(root, encoding="unicode"),
            f"tap on {label!r} at ({(x1 + x2) // 2},{(y1 + y2) // 2}) changed nothing",
        )
        device.key("BACK")
        time.sleep(0.3)
        back = device.current_app()
        expect(
            back != after or device.ui_tree() != tree_after,
            f"BACK on {after} changed neither the focus nor the screen",
        )
        device.swipe(w_mid := device.window_size()[0] // 2, 1500, w_mid, 600, 300)
        device.key("HOME")
        time.sleep(0.3)
        home = device.current_app()
        expect(home[0] != settings, f"HOME left focus on {home}")
        return f"tap on {label!r} -> {after[1]}; BACK -> {back[1]}; HOME -> {home[0]}"

    def typing() -> str:
        device.launch(app_package(device, "contacts"))
        root = ET.fromstring(device.ui_tree().encode())
        add = next(
            (n for n in root.iter("node") if n.get("content-desc") in _ADD_CONTACT),
            None,
        )
        expect(add is not None, f"contacts shows no button described as one of {_ADD_CONTACT}")
        assert add is not None
        _tap_node(device, add)
        time.sleep(0.5)
        results = []
        for text in ("Plain ASCII 123", 'Zoë 🦊 张伟 "q" $HOME'):
            field = next(
                (
                    n
                    for n in ET.fromstring(device.ui_tree().encode()).iter("node")
                    if n.get("class") == "android.widget.EditText"
                ),
                None,
            )
            expect(field is not None, "the contact editor shows no text field")
            assert field is not None
            _tap_node(device, field)
            device.shell("input keyevent KEYCODE_MOVE_END")
            for _ in range(len(field.get("text") or "") + 2):
                device.key("DEL")
            device.type_text(text)
            time.sleep(0.3)
            shown = [
                n.get("text")
                for n in ET.fromstring(device.ui_tree().encode()).iter("node")
                if n.get("class") == "android.widget.EditText"
            ]
            expect(text in shown, f"typed {text!r}; text fields show {shown!r}")
            results.append(text)
        device.key("BACK")
        device.key("BACK")
        device.key("HOME")
        return "typed and read back: " + " / ".join(repr(t) for t in results)

    return [
        ("screen size", screen),
        ("screenshot raw", shot("raw")),
        ("screenshot png", shot("png")),
        ("clock and time zone", clock),
        ("seed contacts", contacts),
        ("seed sms threads", sms),
        ("seed call log", calls),
        ("seed calendar", calendar),
        ("seed alarms", alarms),
        ("seed files with mtimes", files),
        ("tar", tar),
        ("uiautomator dump", dump),
        ("taps, keys, swipes", taps_and_keys),
        ("typing ASCII and Unicode", typing),
    ]


def app_package(device: Any, role: str) -> str:
    """The package that fills ``role`` on the device (its app profile), else the virtual
    phone's package for it (a device object made by hand has no profile)."""
    from emulator.apps import VIRTUAL_PHONE

    apps = getattr(device, "apps", None)
    found = apps.package(role) if apps is not None else None
    return found or VIRTUAL_PHONE[role][0]


def _bounds(node: ET.Element) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (int(v) for v in node.get("bounds", "")[1:-1].replace("][", ",").split(","))
    return x1, y1, x2, y2


def _tap_node(device: Any, node: ET.Element) -> None:
    x1, y1, x2, y2 = _bounds(node)
    device.tap((x1 + x2) // 2, (y1 + y2) // 2)


# -- Linux -----------------------------------------------------------------------------


def linux_checks(device: Any) -> list[tuple[str, Callable[[], str]]]:
    """The battery for a Linux device (a QEMU VM or an attached host over SSH)."""
    from linux_vm.seeding import FileRecord, LinuxSeedPlan

    def exit_codes() -> str:
        got = [device.exec(f"exit {n}").exit_code for n in (0, 1, 3, 127)]
        expect(got == [0, 1, 3, 127], f"`exit 0/1/3/127` gave {got}")
        out = device.exec("printf '%s' \"$1\"; echo err >&2", timeout=20)
        expect(out.stderr.strip() == "err", f"stderr came back as {out.stderr!r}")
        return f"exit codes {got}, stderr kept apart"

    def timeouts() -> str:
        started = time.monotonic()
        r = device.exec("sleep 30", timeout=2)
        took = time.monotonic() - started
        expect(
            r.timed_out and took < 15,
            f"`sleep 30` with timeout 2: timed_out={r.timed_out} after {took:.1f}s",
        )
        alive = device.exec("echo still-here").stdout.strip()
        expect(alive == "still-here", f"after the timeout the device answered {alive!r}")
        return f"timed out after {took:.1f}s; the device answers after it"

    def persistent_shell() -> str:
        device.shell("cd /tmp && export CONFORMANCE_VAR='a b $c'")
        r = device.shell('pwd; printf "%s" "$CONFORMANCE_VAR"')
        expect(r.stdout == "/tmp\na b $c", f"cwd and variable did not persist: {r.stdout!r}")
        return "cwd and variables persist between commands"

    def sftp() -> str:
        data = HOSTILE_LINES.encode() + bytes(range(256))
        path = "/tmp/conformance 'ü' $x.bin"
        device.write_file(path, data, mode=0o640)
        back = device.read_file(path)
        expect(back == data, f"{len(data)} bytes written, {len(back)} different bytes read")
        mode = device.exec(f"stat -c %a {_q(path)}").stdout.strip()
        expect(mode == "640", f"mode 640 written, stat says {mode!r}")
        return f"{len(data)} bytes (every byte value) and mode 640 kept"

    def clock() -> str:
        device.set_clock(CLOCK_AT, CLOCK_TZ)
        raw = device.exec("date +%s").stdout.strip()
        expect(raw.isdigit(), f"`date +%s` printed {raw!r}")
        drift = abs(int(raw) - int(CLOCK_AT.timestamp()))
        expect(drift <= 120, f"set {CLOCK_AT.isoformat()}, device says {raw} ({drift}s off)")
        zone = device.exec("date +%Z%z").stdout.strip()
        want = datetime.fromtimestamp(int(raw), ZoneInfo(CLOCK_TZ)).strftime("%Z%z")
        expect(zone == want, f"zone {CLOCK_TZ}: `date +%Z%z` says {zone!r}, expected {want!r}")
        return f"epoch {raw} ({drift}s from set), zone {zone}"

    def seeding() -> str:
        mtime = datetime(2025, 12, 24, 17, 30, 5, tzinfo=UTC)
        content = HOSTILE_LINES.encode()
        path = "~/conformance/notes 'ü' $x.md"
        device.seed(
            LinuxSeedPlan(records=[FileRecord(path=path, content=content, mode=0o600, mtime=mtime)])
        )
        back = device.read_state({"kind": "file", "path": path})
        expect(back == content, f"file reader gave {back!r}")
        sha = device.read_state({"kind": "sha256", "path": path})
        expect(sha == hashlib.sha256(content).hexdigest(), f"sha256 reader said {sha}")
        seen = device.read_state(
            {"kind": "command", "command": "stat -c %Y ~/conformance/*.md", "timeout": 20}
        )
        expect(
            seen["stdout"].strip() == str(int(mtime.timestamp())),
            f"mtime {int(mtime.timestamp())} seeded, stat says {seen['stdout'].strip()!r}",
        )
        return "file, mode and mtime seeded; file, sha256 and command readers agree"

    return [
        ("exec exit codes", exit_codes),
        ("exec timeouts", timeouts),
        ("persistent shell", persistent_shell),
        ("sftp", sftp),
        ("clock and time zone", clock),
        ("seeding and readers", seeding),
    ]


def _q(path: str) -> str:
    import shlex

    return shlex.quote(path)


# -- running ---------------------------------------------------------------------------


def run_battery(device: Any, only: tuple[str, ...] | None = None) -> list[Check]:
    """Every check for the device's kind (or those named in ``only``), each on its own (one
    failing does not stop the rest)."""
    named = android_checks(device) if device.kind == "android" else linux_checks(device)
    return [_run(name, fn) for name, fn in named if only is None or name in only]


@contextlib.contextmanager
def bring_up(kind: str, config: RigConfig, workdir: Path) -> Iterator[Device]:
    """The configured backend's device for ``kind`` (booted or attached), released after."""
    name = config.devices.android if kind == "android" else config.devices.linux
    backend = make_backend(kind, name, config)  # type: ignore[arg-type]
    role = "phone" if kind == "android" else "laptop"
    workdir.mkdir(parents=True, exist_ok=True)
    device = backend.acquire(role, workdir / role)
    try:
        yield device
    finally:
        try:
            device.close()
        finally:
            backend.release(device)
