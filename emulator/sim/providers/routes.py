"""``content://`` URIs to tables: which database, what to read, where to write.

The patterns are the AOSP providers' own (``ContactsContract``, ``Telephony.Sms``,
``CallLog.Calls``, ``CalendarContract``, ``Settings``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from emulator.sim.providers import schema


class ProviderError(ValueError):
    """A provider refused a request; the message reads like Android's exception text."""

    def __init__(self, message: str, exception: str = "java.lang.IllegalArgumentException") -> None:
        super().__init__(message)
        self.exception = exception


@dataclass
class Route:
    """One resolved URI."""

    kind: str  # sms, contacts, raw_contacts, data, calls, events, settings ...
    db: str  # device path of the database
    source: str  # table or view to read from
    table: str | None  # table to write to (None: read-only)
    base_uri: str  # what an inserted row's id is appended to
    fixed: list[tuple[str, list[Any]]] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)
    row_id: int | None = None
    name: str | None = None  # settings: the setting's name from the path
    window: tuple[int, int] | None = None  # calendar instances: [begin, end) in epoch ms


_SMS_BOXES = {"inbox": 1, "sent": 2, "draft": 3, "outbox": 4, "failed": 5, "queued": 6}
_CONTACTS_AUTH = ("com.android.contacts",)
_CAL = "com.android.calendar"
_CAL_TABLES = {
    "calendars": ("Calendars", "Calendars"),
    "events": ("view_events", "Events"),
    "reminders": ("Reminders", "Reminders"),
    "attendees": ("Attendees", "Attendees"),
}


def split(uri: str) -> tuple[str, list[str]]:
    """``content://auth/a/b?x`` → ``("auth", ["a", "b"])``."""
    if not isinstance(uri, str) or not uri.startswith("content://"):
        raise ProviderError(f"Unknown URI {uri}")
    rest = uri[len("content://") :].split("?", 1)[0].split("#", 1)[0]
    authority, _, path = rest.partition("/")
    return authority, [unquote(p) for p in path.split("/") if p]


def _int(segment: str, uri: str) -> int:
    if not re.fullmatch(r"-?\d+", segment):
        raise ProviderError(f"Unknown URI {uri}")
    return int(segment)


def resolve(uri: str) -> Route:
    authority, parts = split(uri)
    if authority in ("sms",):
        return _sms(uri, parts)
    if authority == "mms-sms":
        if parts[:1] == ["conversations"] and len(parts) <= 2:
            r = Route("threads", schema.SMS_DB, "threads", None, "content://mms-sms/conversations")
            if len(parts) == 2:
                r.row_id = _int(parts[1], uri)
            return r
        if parts == ["canonical-addresses"]:
            return Route("canonical", schema.SMS_DB, "canonical_addresses", None, uri)
    if authority in _CONTACTS_AUTH:
        return _contacts(uri, parts)
    if authority == "call_log" and parts[:1] == ["calls"] and len(parts) <= 2:
        r = Route("calls", schema.CALLLOG_DB, "calls", "calls", "content://call_log/calls")
        if len(parts) == 2:
            r.row_id = _int(parts[1], uri)
        return r
    if authority == _CAL and len(parts) == 4 and parts[:2] == ["instances", "when"]:
        # Instances.CONTENT_URI/BEGIN/END: occurrences overlapping [BEGIN, END).
        begin, end = _int(parts[2], uri), _int(parts[3], uri)
        r = Route("instances", schema.CALENDAR_DB, "temp.instances_window", None, uri)
        r.window = (begin, end)
        return r
    if authority == _CAL and parts and parts[0] in _CAL_TABLES and len(parts) <= 2:
        source, table = _CAL_TABLES[parts[0]]
        r = Route(parts[0], schema.CALENDAR_DB, source, table, f"content://{_CAL}/{parts[0]}")
        if len(parts) == 2:
            r.row_id = _int(parts[1], uri)
        return r
    if authority == "settings" and parts and parts[0] in ("system", "secure", "global"):
        ns = parts[0]
        if len(parts) > 2:
            raise ProviderError(f"Invalid URI: {uri}")
        r = Route("settings", schema.SETTINGS_DB, ns, ns, f"content://settings/{ns}")
        if len(parts) == 2:
            r.name = parts[1]
            r.fixed.append(("name = ?", [parts[1]]))
        return r
    known = ("sms", "mms-sms", "call_log", _CAL, "settings", *_CONTACTS_AUTH)
    if authority not in known:
        raise ProviderError(
            f"Could not find provider: {authority}", "java.lang.IllegalStateException"
        )
    raise ProviderError(f"Unknown URI {uri}")


def _sms(uri: str, parts: list[str]) -> Route:
    r = Route("sms", schema.SMS_DB, "sms", "sms", "content://sms")
    if not parts:
        return r
    head = parts[0]
    if head in _SMS_BOXES and len(parts) <= 2:
        r.fixed.append(("type = ?", [_SMS_BOXES[head]]))
        r.defaults["type"] = _SMS_BOXES[head]
        if len(parts) == 2:
            r.row_id = _int(parts[1], uri)
        return r
    if head == "conversations":
        if len(parts) == 1:
            return Route("conversations", schema.SMS_DB, "sms_conversations", None, uri)
        if len(parts) == 2:
            r.fixed.append(("thread_id = ?", [_int(parts[1], uri)]))
            return r
    if len(parts) == 1:
        r.row_id = _int(head, uri)
        return r
    raise ProviderError(f"Unknown URI {uri}")


def _contacts(uri: str, parts: list[str]) -> Route:
    base = "content://com.android.contacts"
    db = schema.CONTACTS_DB
    if not parts:
        raise ProviderError(f"Unknown URI {uri}")
    head = parts[0]
    if head == "contacts" and len(parts) <= 2:
        r = Route("contacts", db, "contacts", "contacts", f"{base}/contacts")
        if len(parts) == 2:
            r.row_id = _int(parts[1], uri)
        return r
    if head == "raw_contacts":
        r = Route("raw_contacts", db, "raw_contacts", "raw_contacts", f"{base}/raw_contacts")
        if len(parts) >= 2:
            r.row_id = _int(parts[1], uri)
        if len(parts) == 3 and parts[2] == "data":
            d = Route("data", db, "view_data", "data", f"{base}/data")
            d.fixed.append(("raw_contact_id = ?", [r.row_id]))
            d.defaults["raw_contact_id"] = r.row_id
            return d
        if len(parts) <= 2:
            return r
    if head == "data":
        r = Route("data", db, "view_data", "data", f"{base}/data")
        if len(parts) == 2 and parts[1] in ("phones", "emails"):
            mime = schema.MIME_PHONE if parts[1] == "phones" else schema.MIME_EMAIL
            r.fixed.append(("mimetype = ?", [mime]))
            return r
        if len(parts) == 2:
            r.row_id = _int(parts[1], uri)
        if len(parts) <= 2:
            return r
    if head == "phone_lookup" and len(parts) == 2:
        r = Route("phone_lookup", db, "view_phone_lookup", None, f"{base}/phone_lookup")
        r.fixed.append(("phone_equal(number, ?)", [parts[1]]))
        return r
    raise ProviderError(f"Unknown URI {uri}")
