"""Events folded into what the world's services hold: mailboxes, a calendar, an address book.

When a task declares a service (``services: [mail, calendar, contacts]``), every
event of that service's kinds goes to it, whichever device the stream aimed it
at; both devices then see it through their clients. Otherwise events go to the
devices as before, and events aimed at an undeclared ``service:…`` are skipped.

- mail: each message as RFC 5322 bytes with CRLF line ends (what IMAP returns),
  non-ASCII headers as RFC 2047 encoded words, the body as UTF-8 MIME; received
  mail in INBOX (``\\Seen`` when read), sent mail in Sent. Header fields are one
  line: line breaks in a subject or address are unfolded to spaces.
- calendar: one VCALENDAR with a VEVENT per entry (moved ones at their new time,
  cancelled ones not at all); single entries in UTC, series in the task's zone
  (TZID with a VTIMEZONE, so they keep their wall-clock time across DST changes),
  all-day entries as dates, series rules, attendees; DTSTAMP is the world's now.
- contacts: one vCard 3.0 per contact (the last edit wins), every number and address.

Text values cannot hold a carriage return in iCalendar or vCard: ``\\r\\n`` and lone
``\\r`` become a line break (``\\n``), and a ``"`` in an attendee's name becomes ``'``
(parameter values cannot quote it); both are listed in ``losses``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from tasks import events as ev
from tasks.compile_linux import one_line

# Which service holds which event kinds.
KIND_SERVICE = {
    "mail.received": "mail",
    "mail.sent": "mail",
    "calendar.created": "calendar",
    "calendar.moved": "calendar",
    "calendar.cancelled": "calendar",
    "contact.added": "contacts",
    "contact.edited": "contacts",
}
_SMTP = policy.SMTP  # CRLF line ends, RFC 2047 for non-ASCII header text


@dataclass(frozen=True)
class SeedMail:
    folder: str
    raw: bytes
    when: datetime
    flags: tuple[str, ...]
    message_id: str


@dataclass
class MailPlan:
    user: str = ""
    messages: list[SeedMail] = field(default_factory=list)


@dataclass(frozen=True)
class SeedEvent:
    """What the calendar must read back for one entry (times aware, in the task's zone)."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    all_day: bool
    location: str
    description: str
    rrule: str
    attendees: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SeedContact:
    uid: str
    name: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    org: str
    note: str


@dataclass
class DavPlan:
    """One multi-object file for one collection, and what it must read back as."""

    service: str
    text: str = ""
    events: list[SeedEvent] = field(default_factory=list)
    contacts: list[SeedContact] = field(default_factory=list)


def service_of(event: ev.EventBase, declared: tuple[str, ...]) -> str | None:
    """The declared service ``event`` goes to, or None when it goes to a device (or nowhere)."""
    if event.target.startswith(ev.SERVICE_PREFIX):
        name = event.target[len(ev.SERVICE_PREFIX) :]
        return name if name in declared else None
    name = KIND_SERVICE.get(event.kind)
    return name if name in declared else None


def _text(value: str) -> str:
    """An iCalendar/vCard TEXT value: CR folded into LF, then escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 sequence (RFC 5545 3.1)."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def _lines(lines: list[str]) -> str:
    return "".join(_fold(line) + "\r\n" for line in lines)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def vtimezone(tz: ZoneInfo, first: datetime, last: datetime) -> list[str]:
    """A VTIMEZONE for ``tz`` with every UTC-offset change between ``first`` and ``last``
    (a TZID with no VTIMEZONE is not valid iCalendar, and servers are slow to guess it)."""
    lo = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    hi = last.astimezone(UTC) + timedelta(days=1)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz.key}"]

    def observance(at_utc: datetime, before: timedelta | None) -> list[str]:
        local = at_utc.astimezone(tz)
        kind = "DAYLIGHT" if local.dst() else "STANDARD"
        start = (at_utc + (before if before is not None else local.utcoffset())).replace(
            tzinfo=None
        )
        return [
            f"BEGIN:{kind}",
            f"DTSTART:{start:%Y%m%dT%H%M%S}",
            f"TZOFFSETFROM:{_offset(before if before is not None else local.utcoffset())}",
            f"TZOFFSETTO:{_offset(local.utcoffset())}",
            f"TZNAME:{_text(local.tzname() or tz.key)}",
            f"END:{kind}",
        ]

    lines += observance(lo, None)
    t, prev = lo, lo.astimezone(tz).utcoffset()
    while t < hi:
        nxt = t + timedelta(days=1)
        if nxt.astimezone(tz).utcoffset() != prev:
            h = t
            while h.astimezone(tz).utcoffset() == prev:
                h += timedelta(minutes=15)
            lines += observance(h, prev)
            prev = h.astimezone(tz).utcoffset()
        t = nxt
    lines.append("END:VTIMEZONE")
    return lines


def _param(value: str) -> str:
    value = one_line(value).replace('"', "'")
    return f'"{value}"'


@dataclass
class ServiceFold:
    tz: ZoneInfo
    now: datetime
    declared: tuple[str, ...]
    mail: list[SeedMail] = field(default_factory=list)
    events: dict[str, ev.CalendarCreated] = field(default_factory=dict)
    contacts: dict[str, ev.ContactAdded] = field(default_factory=dict)
    losses: list[str] = field(default_factory=list)

    def add(self, e: ev.EventBase) -> None:
        handler = _HANDLERS.get(type(e))
        if handler is None:
            raise ValueError(f"event {e.id} ({e.kind}): no service holds it")
        handler(self, e)

    def finish(self) -> dict[str, MailPlan | DavPlan]:
        plans: dict[str, MailPlan | DavPlan] = {}
        if "mail" in self.declared:
            plans["mail"] = MailPlan(messages=list(self.mail))
        if "calendar" in self.declared:
            plans["calendar"] = self._calendar()
        if "contacts" in self.declared:
            plans["contacts"] = self._contacts()
        return plans

    def _calendar(self) -> DavPlan:
        plan = DavPlan("calendar")
        stamp = self.now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//clawrig//seed//EN"]
        series = [c for c in self.events.values() if c.rrule and not c.all_day]
        if series:
            first = min(c.start for c in series)
            lines += vtimezone(self.tz, first, max(c.end for c in series) + timedelta(days=400))
        for c in self.events.values():
            start, end = c.start.astimezone(self.tz), c.end.astimezone(self.tz)
            if c.all_day:
                start = datetime.combine(start.date(), datetime.min.time(), self.tz)
                end = datetime.combine(end.date(), datetime.min.time(), self.tz)
                if end <= start:
                    end = start + timedelta(days=1)
                span = [
                    f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
                    f"DTEND;VALUE=DATE:{end:%Y%m%d}",
                ]
            elif c.rrule:  # a series keeps its wall-clock time across DST changes
                span = [
                    f"DTSTART;TZID={self.tz.key}:{start:%Y%m%dT%H%M%S}",
                    f"DTEND;TZID={self.tz.key}:{end:%Y%m%dT%H%M%S}",
                ]
            else:  # one instant: UTC is exact and needs no VTIMEZONE
                span = [
                    f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                    f"DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                ]
            lines += ["BEGIN:VEVENT", f"UID:{_text(c.event_id)}", f"DTSTAMP:{stamp}", *span]
            lines.append(f"SUMMARY:{_text(c.title)}")
            if c.location:
                lines.append(f"LOCATION:{_text(c.location)}")
            if c.description:
                lines.append(f"DESCRIPTION:{_text(c.description)}")
            if c.rrule:
                lines.append(f"RRULE:{one_line(c.rrule)}")
            for a in c.attendees:
                if '"' in a.name:
                    self.losses.append(f"calendar: {c.event_id}: '\"' in an attendee name")
                lines.append(f"ATTENDEE;CN={_param(a.name)}:mailto:{one_line(a.email)}")
            lines.append("END:VEVENT")
            plan.events.append(
                SeedEvent(
                    uid=c.event_id,
                    summary=_plain(c.title),
                    start=start,
                    end=end,
                    all_day=c.all_day,
                    location=_plain(c.location or ""),
                    description=_plain(c.description or ""),
                    rrule=one_line(c.rrule or ""),
                    attendees=tuple(
                        (one_line(a.name).replace('"', "'"), one_line(a.email)) for a in c.attendees
                    ),
                )
            )
        lines.append("END:VCALENDAR")
        plan.text = _lines(lines)
        return plan

    def _contacts(self) -> DavPlan:
        plan = DavPlan("contacts")
        blocks = []
        for c in self.contacts.values():
            lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{_text(c.contact_id)}"]
            lines += [f"FN:{_text(c.name)}", f"N:;{_text(c.name)};;;"]
            for i, number in enumerate(c.phones):
                lines.append(f"TEL;TYPE={'CELL' if i == 0 else 'VOICE'}:{_text(one_line(number))}")
            for address in c.emails:
                lines.append(f"EMAIL;TYPE=INTERNET:{_text(one_line(address))}")
            if c.org:
                lines.append(f"ORG:{_text(c.org)}")
            if c.note:
                lines.append(f"NOTE:{_text(c.note)}")
            lines.append("END:VCARD")
            blocks.append(_lines(lines))
            plan.contacts.append(
                SeedContact(
                    uid=c.contact_id,
                    name=_plain(c.name),
                    phones=tuple(one_line(p) for p in c.phones),
                    emails=tuple(one_line(a) for a in c.emails),
                    org=_plain(c.org or ""),
                    note=_plain(c.note or ""),
                )
            )
        plan.text = "".join(blocks)
        return plan


def _plain(value: str) -> str:
    """What a TEXT value reads back as (carriage returns become line feeds)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _mail(f: ServiceFold, e: ev.MailReceived | ev.MailSent) -> None:
    received = isinstance(e, ev.MailReceived)
    msg = EmailMessage(policy=_SMTP)
    try:
        msg["From"] = one_line(e.sender)
        msg["To"] = one_line(", ".join(e.to))
        if e.cc:
            msg["Cc"] = one_line(", ".join(e.cc))
        msg["Subject"] = one_line(e.subject)
        msg["Date"] = format_datetime(e.t.astimezone(f.tz))
        msg["Message-ID"] = one_line(e.message_id)
        if e.in_reply_to:
            msg["In-Reply-To"] = one_line(e.in_reply_to)
            msg["References"] = one_line(e.in_reply_to)
        msg.set_content(e.body, cte="base64" if _needs_base64(e.body) else None)
        raw = msg.as_bytes()
    except (HeaderParseError, ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"event {e.id} ({e.kind}): cannot be a mail message: {exc}") from None
    folder = "INBOX" if received else "Sent"
    seen = e.read if isinstance(e, ev.MailReceived) else True
    f.mail.append(SeedMail(folder, raw, e.t, ("\\Seen",) if seen else (), one_line(e.message_id)))


def _needs_base64(body: str) -> bool:
    """Bodies a quoted-printable round trip would change (lone CRs) go as base64."""
    return "\r" in body


def _calendar_created(f: ServiceFold, e: ev.CalendarCreated) -> None:
    f.events[e.event_id] = e


def _calendar_moved(f: ServiceFold, e: ev.CalendarMoved) -> None:
    known = f.events.get(e.event_id)
    if known is None:
        raise ValueError(f"event {e.id}: calendar.moved of unknown event {e.event_id!r}")
    f.events[e.event_id] = known.model_copy(update={"start": e.start, "end": e.end})


def _calendar_cancelled(f: ServiceFold, e: ev.CalendarCancelled) -> None:
    if f.events.pop(e.event_id, None) is None:
        raise ValueError(f"event {e.id}: calendar.cancelled of unknown event {e.event_id!r}")


def _contact_added(f: ServiceFold, e: ev.ContactAdded) -> None:
    f.contacts[e.contact_id] = e


def _contact_edited(f: ServiceFold, e: ev.ContactEdited) -> None:
    known = f.contacts.get(e.contact_id)
    if known is None:
        raise ValueError(f"event {e.id}: contact.edited of unknown contact {e.contact_id!r}")
    changes = {
        k: getattr(e, k)
        for k in ("name", "phones", "emails", "org", "note")
        if getattr(e, k) is not None
    }
    f.contacts[e.contact_id] = known.model_copy(update=changes)


_HANDLERS = {
    ev.MailReceived: _mail,
    ev.MailSent: _mail,
    ev.CalendarCreated: _calendar_created,
    ev.CalendarMoved: _calendar_moved,
    ev.CalendarCancelled: _calendar_cancelled,
    ev.ContactAdded: _contact_added,
    ev.ContactEdited: _contact_edited,
}
