"""The world's calendars (CalDAV), controller side: health, seeding, and the reader.

:meth:`CalendarService.events` reads the persona's calendar back over CalDAV and
parses every VEVENT into a :class:`CalendarEvent` (times timezone-aware, the
series rule kept as text, attendees as ``(name, email)``, alarms as triggers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from rig.services.base import Account
from rig.services.dav import DavService, plain

REPORT_EVENTS = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>
  </C:filter>
</C:calendar-query>"""


@dataclass
class CalendarEvent:
    uid: str
    summary: str = ""
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    location: str = ""
    description: str = ""
    rrule: str = ""
    attendees: list[tuple[str, str]] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    dtstamp: datetime | None = None
    href: str = ""


def _aware(value: Any, tz: ZoneInfo) -> tuple[datetime | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, datetime):
        # Every aware time in ``tz`` as a ZoneInfo (a parser's own tzinfo objects stay inside).
        return (value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)), False
    if isinstance(value, date):
        return datetime.combine(value, time(0), tz), True
    return None, False


def parse_events(text: str, tz: ZoneInfo, href: str = "") -> list[CalendarEvent]:
    import vobject

    out = []
    for cal in vobject.readComponents(text):
        for ev in cal.contents.get("vevent", []):
            start, all_day = _aware(getattr(ev, "dtstart", None) and ev.dtstart.value, tz)
            end, _ = _aware(getattr(ev, "dtend", None) and ev.dtend.value, tz)
            attendees = []
            for att in ev.contents.get("attendee", []):
                cn = att.params.get("CN", [""])[0]
                address = str(att.value)
                if address.lower().startswith("mailto:"):
                    address = address[7:]
                attendees.append((cn, address))
            alarms = [
                str(a.trigger.value) for a in ev.contents.get("valarm", []) if hasattr(a, "trigger")
            ]
            stamp, _ = _aware(getattr(ev, "dtstamp", None) and ev.dtstamp.value, tz)
            out.append(
                CalendarEvent(
                    uid=str(ev.uid.value) if hasattr(ev, "uid") else "",
                    summary=str(ev.summary.value) if hasattr(ev, "summary") else "",
                    start=start,
                    end=end,
                    all_day=all_day,
                    location=str(ev.location.value) if hasattr(ev, "location") else "",
                    description=str(ev.description.value) if hasattr(ev, "description") else "",
                    rrule=str(ev.rrule.value) if hasattr(ev, "rrule") else "",
                    attendees=attendees,
                    alarms=alarms,
                    dtstamp=stamp,
                    href=href,
                )
            )
    return out


class CalendarService(DavService):
    """The persona's calendar at ``/USER/calendar/`` on the world's Radicale."""

    name = "calendar"
    content_type = "text/calendar"
    report_body = REPORT_EVENTS

    def _expected(self, plan: Any) -> dict[str, dict[str, Any]]:
        return {
            e.uid: {
                "summary": e.summary,
                "start": e.start,
                "end": e.end,
                "all_day": e.all_day,
                "location": e.location,
                "description": e.description,
                "rrule": e.rrule,
                "attendees": [tuple(a) for a in e.attendees],
            }
            for e in plan.events
        }

    def _read_back(self) -> list[dict[str, Any]]:
        return [plain(e) for e in self.events()]

    def events(self, account: Account | None = None, tz: str = "UTC") -> list[CalendarEvent]:
        zone = ZoneInfo(tz)
        out: list[CalendarEvent] = []
        for obj in self.objects(account):
            out += parse_events(obj.data, zone, obj.href)
        return out
