"""Live events: delivering ``live:`` events through the world's real paths as time passes.

The engine holds the task's live events in time order and delivers each one when world
time reaches it: with a ``running`` clock a background thread wakes at each due time (so
an event due during a long agent step lands on time); with a ``stepped`` clock
:meth:`LiveEvents.advance_to` moves the world to each due time in turn, delivers, and
goes on to the target. Every delivery is recorded (``live.jsonl``) with its due and
delivered world times and the host-side latency.

Paths (the ones a person's devices see, never a write into an app's storage):
an SMS through the phone's emulator console (``sms send``), mail through SMTP to the
world's mail service (its inbound port), calendar changes through CalDAV, a chat message
through the homeserver as its sender, a file through SSH (laptop) or adb sync (phone),
a bank booking through the bank's own posting route.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rig import actions as A
from rig.errors import RigError, is_infra
from tasks.events import EventBase

SMS_SENDER_FALLBACK = "+4930555000"


class LiveDeliveryError(RigError):
    """A live event could not be delivered although its path is up (bad task data)."""


class LiveEvents:
    """The live events of one episode and their deliveries."""

    def __init__(
        self,
        world: Any,
        events: list[EventBase],
        clock: Any,
        timezone: str,
        record: Path | None = None,
    ) -> None:
        self.world, self.clock, self.timezone = world, clock, timezone
        # Stable sort: events at the same instant go in the order the task lists them.
        self.events = list(events)
        self.pending = sorted(range(len(self.events)), key=lambda i: self.events[i].t)
        self.deliveries: list[dict[str, Any]] = []
        self.record = record
        self.failure: BaseException | None = None  # a path that went away (infra)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._home: dict[str, str] = {}

    # -- time ---------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        with self._lock:
            return self.events[self.pending[0]].t if self.pending else None

    def start(self) -> None:
        """Running clock: deliver in the background on time. Stepped: nothing yet."""
        if self.clock.mode == "running" and self.pending and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="live-events", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            due = self.next_due()
            if due is None:
                return
            host = self.clock.host_time(due)
            delay = 0.0 if host is None else host - time.time()
            if delay > 0:
                self._wake.wait(min(delay, 60.0))
                self._wake.clear()
                continue
            self.fire_due(self.clock.now())

    def fire_due(self, now: datetime | None) -> list[dict[str, Any]]:
        """Deliver every pending event due at or before ``now`` (world time)."""
        done = []
        while now is not None:
            with self._lock:
                if not self.pending or self.events[self.pending[0]].t > now:
                    break
                index = self.pending.pop(0)
                done.append(self._deliver(index))
        return done

    def advance_to(self, target: datetime) -> list[dict[str, Any]]:
        """Move the world to ``target`` (a stepped ``wait``, a heartbeat's time), delivering
        each event due on the way at its own time. A running clock jumps the same way; its
        delivery thread is woken to reckon the rest from the new world time."""
        done = []
        with self._running(), self._lock:
            while self.pending and self.events[self.pending[0]].t <= target:
                self.clock.advance_to(self.events[self.pending[0]].t)
                done += self.fire_due(self.clock.now())
            self.clock.advance_to(target)
        self._wake.set()
        return done

    def _running(self) -> contextlib.AbstractContextManager[None]:
        """Every device runs inside (``WorldTime.running``: a stepped world pauses them)."""
        hold = getattr(self.clock, "running", None)
        return hold() if hold is not None else contextlib.nullcontext()

    # -- delivery -----------------------------------------------------------------------

    def _deliver(self, index: int) -> dict[str, Any]:
        event = self.events[index]
        started = time.time()
        due_host = self.clock.host_time(event.t) if self.clock.mode == "running" else started
        world_now = self.clock.now()
        entry: dict[str, Any] = {
            "index": index,
            "id": event.id,
            "kind": event.kind,
            "target": event.target,
            "due": event.t.isoformat(),
            "delivered": world_now.isoformat() if world_now is not None else None,
        }
        try:
            with self._running():  # a device paused between steps runs for its delivery
                entry["path"] = deliver(self, event)
            entry["ok"] = True
        except Exception as exc:
            entry.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            if is_infra(exc) and self.failure is None:
                self.failure = exc
        finished = time.time()
        entry["host_delivered"] = datetime.fromtimestamp(finished, UTC).isoformat()
        entry["latency_s"] = round(finished - (due_host or started), 3)
        entry["deliver_s"] = round(finished - started, 3)
        self.deliveries.append(entry)
        if self.record is not None:
            with open(self.record, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def home(self, role: str) -> str:
        # On a channel of its own, never the agent's shell (see :func:`_file`).
        if role not in self._home:
            out = self.world[role].exec('printf %s "$HOME"', timeout=30)
            self._home[role] = out.stdout.strip() or "/root"
        return self._home[role]


# -- the paths -----------------------------------------------------------------------------


def deliver(engine: LiveEvents, event: EventBase) -> str:
    """Deliver one event through its real path; returns a one-line description of it."""
    handler = _PATHS.get(event.kind)
    if handler is None:
        raise LiveDeliveryError(f"{event.kind} has no live path")
    return handler(engine, event)


def _service(engine: LiveEvents, name: str) -> Any:
    services = getattr(engine.world, "services", {}) or {}
    if name not in services:
        raise LiveDeliveryError(f"the world has no {name} service")
    return services[name]


def _sms(engine: LiveEvents, event: Any) -> str:
    from emulator.console import Console

    device = engine.world[event.target]
    console = getattr(device, "console", None)
    if console is None:
        raise LiveDeliveryError(f"{event.target} has no emulator console for an incoming SMS")
    port, token_path = console
    sender = re.sub(r"[^+0-9]", "", event.address) or SMS_SENDER_FALLBACK
    with Console(port, token_path=token_path, timeout=10) as con:
        con.sms_send(sender, event.body)
    return f"console {port}: sms send {sender}"


def _mail(engine: LiveEvents, event: Any) -> str:
    from email.utils import getaddresses

    from tasks.compile import compile_stream

    mail = _service(engine, "mail")
    plans = compile_stream({}, engine.timezone, [event], services=("mail",), now=event.t)
    raw = plans.services["mail"].messages[0].raw
    sender = (getaddresses([event.sender]) or [("", event.sender)])[0][1] or "sender@world"
    ours = {a.lower() for a in mail.account.addresses}
    wanted = [a for _, a in getaddresses([*event.to, *event.cc]) if a.lower() in ours]
    mail.receive(raw, sender, wanted or None)
    return f"SMTP to mail (inbound port {mail.mx_port})"


def _calendar(engine: LiveEvents, event: Any) -> str:
    from tasks.compile import compile_stream

    cal = _service(engine, "calendar")
    if event.kind == "calendar.created":
        plans = compile_stream({}, engine.timezone, [event], services=("calendar",), now=event.t)
        text = plans.services["calendar"].text
        path = cal.path() + quote(f"{event.event_id}.ics")
        status, _h, body = cal.request(
            "PUT", path, text, {"Content-Type": "text/calendar; charset=utf-8"}
        )
        _dav_ok(status, body, "PUT", path)
        return f"CalDAV PUT {path}"
    obj = next((o for o in cal.objects() if _uid_of(o.data) == event.event_id), None)
    if obj is None:
        raise LiveDeliveryError(f"no calendar entry with UID {event.event_id!r} to change")
    if event.kind == "calendar.cancelled":
        status, _h, body = cal.request("DELETE", obj.href, b"", {"If-Match": obj.etag})
        _dav_ok(status, body, "DELETE", obj.href)
        return f"CalDAV DELETE {obj.href}"
    start = event.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = event.end.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = _moved(obj.data, event.event_id, start, end)
    status, _h, body = cal.request(
        "PUT",
        obj.href,
        text,
        {"Content-Type": "text/calendar; charset=utf-8", "If-Match": obj.etag},
    )
    _dav_ok(status, body, "PUT", obj.href)
    return f"CalDAV PUT {obj.href} (moved)"


def _dav_ok(status: int, body: bytes, method: str, path: str) -> None:
    if status not in (200, 201, 204):
        raise LiveDeliveryError(f"CalDAV {method} {path} answered {status}: {body[:200]!r}")


def _uid_of(data: str) -> str | None:
    m = re.search(r"^UID:(.*)$", data.replace("\r\n", "\n"), re.MULTILINE)
    return m.group(1).strip() if m else None


def _moved(data: str, uid: str, start: str, end: str) -> str:
    """The object's text with the VEVENT of ``uid`` at the new span (UTC), DTSTAMP kept."""
    lines = data.replace("\r\n", "\n").split("\n")
    out, inside = [], False
    for line in lines:
        if line == "BEGIN:VEVENT":
            inside = True
        elif line == "END:VEVENT":
            inside = False
        if inside and re.match(r"^DTSTART[;:]", line):
            line = f"DTSTART:{start}"
        elif inside and re.match(r"^DTEND[;:]", line):
            line = f"DTEND:{end}"
        elif inside and re.match(r"^(DURATION|RRULE)[;:]", line):
            continue  # a moved entry is one instant now
        out.append(line)
    return "\r\n".join(out)


def _chat(engine: LiveEvents, event: Any) -> str:
    chat = _service(engine, "chat")
    me = chat.me
    sender = me if event.outgoing else chat.user_id(event.sender)
    if sender != me:
        status, answer = chat._call(
            "POST",
            "/_matrix/client/v3/register",
            {"type": "m.login.application_service", "username": sender[1:].split(":")[0]},
        )
        if status != 200 and (answer or {}).get("errcode") != "M_USER_IN_USE":
            raise LiveDeliveryError(f"registering {event.sender!r} answered {status}: {answer}")
        chat._ok(
            "PUT",
            f"/_matrix/client/v3/profile/{quote(sender)}/displayname",
            {"displayname": event.sender},
            user_id=sender,
        )
    rooms = chat._ok("GET", "/_matrix/client/v3/joined_rooms", user_id=me)["joined_rooms"]
    room_id = None
    for rid in rooms:
        status, named = chat._call(
            "GET", f"/_matrix/client/v3/rooms/{quote(rid)}/state/m.room.name", user_id=me
        )
        if status == 200 and named.get("name") == event.room:
            room_id = rid
            break
    if room_id is None:
        created = chat._ok(
            "POST",
            "/_matrix/client/v3/createRoom",
            {
                "name": event.room,
                "preset": "private_chat",
                "invite": [] if sender == me else [sender],
            },
            user_id=me,
        )
        room_id = created["room_id"]
        if sender != me:
            chat._ok("POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}, user_id=sender)
    elif sender != me:
        members = chat._ok(
            "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members", user_id=me
        )["joined"]
        if sender not in members:
            chat._call(
                "POST",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/invite",
                {"user_id": sender},
                user_id=me,
            )
            chat._ok("POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}, user_id=sender)
    txn = f"live-{event.id}-{int(time.time() * 1000)}"
    ts = int(event.t.timestamp() * 1000)
    chat._ok(
        "PUT",
        f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{quote(txn)}",
        {"msgtype": "m.text", "body": event.body},
        user_id=sender,
        ts=ts,
    )
    return f"homeserver: {event.room} as {sender}"


def _file(engine: LiveEvents, event: Any) -> str:
    device = engine.world[event.target]
    data = event.content()
    if device.kind == "android":
        device.push(data, event.path)
        return f"adb sync push {event.path}"
    path = engine.home(event.target) + "/" + event.path.removeprefix("~/")
    folder = path.rsplit("/", 1)[0]
    # A channel of its own, not the agent's shell: with a running clock this runs in the
    # delivery thread while the agent uses that shell, one request/response stream (the two
    # took each other's output, the file waited for the agent's command, `$?` changed).
    out = device.exec(f"mkdir -p -- {shlex.quote(folder)}", timeout=30)
    if out.exit_code != 0:
        raise LiveDeliveryError(f"mkdir {folder} on {event.target}: {out.stderr.strip()}")
    device.write_file(path, data, event.mode)
    return f"SSH write {path}"


def _bank(engine: LiveEvents, event: Any) -> str:
    from tasks.compile_services import bank_plan
    from tasks.times import zone

    bank = _service(engine, "bank")
    plan = bank_plan([event], zone(engine.timezone))
    row = {**plan.tables["transactions"][0], "origin": "live"}
    account = {**plan.tables["accounts"][0], "user": bank.account.user}
    # One request: the bank counts the balance from the account's inside one transaction
    # (after any standing order that fell due), unless the event gives it.
    body = {"account": account, "transaction": row, "balance_given": event.balance is not None}
    status, answer = bank.request("POST", "/_rig/book", body, admin=True)
    if status != 200 or not isinstance(answer, dict):
        raise LiveDeliveryError(f"the bank refused the booking ({status}): {str(answer)[:200]}")
    row = answer
    return f"bank: booked {row['amount_cents']} cents on {row['account_id']}"


_PATHS: dict[str, Callable[[LiveEvents, Any], str]] = {
    "sms.received": _sms,
    "mail.received": _mail,
    "calendar.created": _calendar,
    "calendar.moved": _calendar,
    "calendar.cancelled": _calendar,
    "chat.message": _chat,
    "file.placed": _file,
    "bank.transaction": _bank,
}


# -- the `wait` action ---------------------------------------------------------------------


def wait(clock: Any, live: LiveEvents | None, seconds: float | None) -> str:
    """Carry out ``wait``: advance a stepped world or sleep (bounded); the observation text."""
    mode = getattr(clock, "mode", "frozen")
    if mode == "stepped" and clock.now() is not None:
        now = clock.now()
        if seconds is None:
            due = live.next_due() if live is not None else None
            if due is None:
                raise _invalid(
                    "nothing more is due to happen; give seconds to let time pass anyway"
                )
            target = max(due, now)
        else:
            target = now + timedelta(seconds=seconds)
        if live is not None:
            live.advance_to(target)
        else:
            clock.advance_to(target)
        moved = (clock.now() - now).total_seconds()
        return f"the world clock advanced {_span(moved)} to {clock.now().isoformat()}"
    # Seconds of world time; a running clock at a speed covers them in seconds/speed of
    # real time, and the cap is on the real time (at speed 60, 30 s are 30 world minutes).
    cap = A.MAX_WAIT_S
    speed = float(getattr(clock, "speed", 1.0)) if mode == "running" else 1.0
    if seconds is None:
        due = live.next_due() if live is not None and mode == "running" else None
        seconds = 1.0
        if due is not None:
            seconds = max(0.0, (due - clock.now()).total_seconds()) + 0.5 * speed
    capped = seconds / speed > cap
    slept = min(seconds / speed, cap)
    time.sleep(slept)
    text = f"waited {slept * speed:g}s"
    if speed != 1:
        text += f" of world time ({slept:g}s of real time at speed {speed:g})"
    if capped:
        text += f" (at most {cap * speed:g}s per wait: real time passes here)"
    if mode == "running" and clock.now() is not None:
        text += f"; it is now {clock.now().isoformat()}"
    return text


def _span(seconds: float) -> str:
    whole = round(seconds)
    if whole % 3600 == 0 and whole:
        return f"{whole // 3600}h"
    if whole % 60 == 0 and whole:
        return f"{whole // 60}m"
    return f"{seconds:g}s"


def _invalid(message: str) -> Exception:
    from rig.errors import ActionInvalid

    return ActionInvalid(message)
