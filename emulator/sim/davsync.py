"""Calendar and contacts sync with CalDAV/CardDAV, the way DAVx5 does it on a phone.

The account (:mod:`emulator.sim.accounts`) owns one local calendar (a
``Calendars`` row of account type ``bitfire.at.davdroid``) and one address book
(its ``raw_contacts``). A sync is two-way and keeps, per account, what both
sides looked like at the last sync (the object's href and ETag, and a hash of
the local row) in the sync app's data directory:

* a local row that changed since then is uploaded (``PUT`` with ``If-Match``;
  a server that changed it too wins, as DAVx5's default does);
* a server object whose ETag changed replaces the local row;
* new on either side is created on the other; gone on one side is deleted on the
  other (unless the other side changed it meanwhile, which recreates it).

Rows the sync itself writes do not start another sync. Syncs run at world
start (a broadcast from the controller), after each local change to the
account's calendar or address book, and when a list is pulled down.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import tz

from emulator.sim import net
from emulator.sim.accounts import DAV_ACCOUNT_TYPE, Accounts, DavAccount

CAL = "content://com.android.calendar"
CONTACTS = "content://com.android.contacts"
MIME_NAME = "vnd.android.cursor.item/name"
MIME_PHONE = "vnd.android.cursor.item/phone_v2"
MIME_EMAIL = "vnd.android.cursor.item/email_v2"
MIME_ORG = "vnd.android.cursor.item/organization"
MIME_NOTE = "vnd.android.cursor.item/note"
STATE_DIR = "/data/data/at.bitfire.davdroid/files"
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav", "R": "urn:ietf:params:xml:ns:carddav"}
QUERIES = {
    "calendar": (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
        "</C:comp-filter></C:filter></C:calendar-query>"
    ),
    "contacts": (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<R:addressbook-query xmlns:D="DAV:" xmlns:R="urn:ietf:params:xml:ns:carddav">'
        "<D:prop><D:getetag/><R:address-data/></D:prop></R:addressbook-query>"
    ),
}
# Android's phone and email types <-> vCard TYPE parameters
PHONE_TYPES = {1: "home", 2: "cell", 3: "work", 7: "other"}
EMAIL_TYPES = {1: "home", 2: "work", 3: "other"}


class SyncError(Exception):
    """The server refused or could not be reached."""


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# -- CalDAV objects <-> Events rows ----------------------------------------------------------
def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def event_to_ics(ev: dict[str, Any], uid: str, stamp: datetime) -> str:
    """One VEVENT in a VCALENDAR from an Events row (+ reminders and attendees)."""
    import vobject

    cal = vobject.iCalendar()
    cal.add("prodid").value = "-//clawrig//virtual phone DAV sync//EN"
    vev = cal.add("vevent")
    vev.add("uid").value = uid
    vev.add("dtstamp").value = stamp.astimezone(tz.UTC)  # vobject knows dateutil's UTC
    zone_name = ev.get("tz") or "UTC"
    if ev["allDay"]:
        start = datetime.fromtimestamp(ev["dtstart"] / 1000, UTC).date()
        vev.add("dtstart").value = start
        if ev.get("dtend") is not None:
            vev.add("dtend").value = datetime.fromtimestamp(ev["dtend"] / 1000, UTC).date()
    else:
        zone = _zone(zone_name) if zone_name != "UTC" else None
        zone = zone or tz.UTC
        vev.add("dtstart").value = datetime.fromtimestamp(ev["dtstart"] / 1000, zone)
        if ev.get("dtend") is not None:
            vev.add("dtend").value = datetime.fromtimestamp(ev["dtend"] / 1000, zone)
    if ev.get("dtend") is None and ev.get("duration"):
        m = re.fullmatch(r"P(\d+)S", str(ev["duration"]))
        if m:
            vev.add("duration").value = timedelta(seconds=int(m.group(1)))
    for key, prop in (
        ("title", "summary"),
        ("location", "location"),
        ("description", "description"),
    ):
        if ev.get(key):
            vev.add(prop).value = ev[key]
    if ev.get("rrule"):
        vev.add("rrule").value = ev["rrule"]
    for name, address in ev.get("attendees") or []:
        att = vev.add("attendee")
        att.value = f"mailto:{address}"
        if name:
            att.params["CN"] = [name]
    for minutes in ev.get("reminders") or []:
        alarm = vev.add("valarm")
        alarm.add("action").value = "DISPLAY"
        alarm.add("description").value = ev.get("title") or "Reminder"
        alarm.add("trigger").value = timedelta(minutes=-int(minutes))
    text = cal.serialize()
    if not ev["allDay"] and zone_name != "UTC":
        # vobject names a time zone by its abbreviation; clients look for the IANA name.
        for tzid in set(re.findall(r"TZID[:=]([^:\r\n;]+)", text)):
            text = re.sub(rf"(TZID[:=]){re.escape(tzid)}(?=[:\r\n;])", rf"\g<1>{zone_name}", text)
    return text


def _ms(value: datetime | date, zone: ZoneInfo) -> tuple[int, bool]:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=zone)
        return int(aware.timestamp() * 1000), False
    return int(datetime.combine(value, time(0), UTC).timestamp() * 1000), True


def ics_to_event(text: str, phone_zone: str) -> tuple[str, dict[str, Any]] | None:
    """The master VEVENT of a calendar object as ``(uid, row)``; None if it has none."""
    import vobject

    try:
        cal = vobject.readOne(text)
    except Exception:
        return None
    master = next(
        (v for v in cal.contents.get("vevent", []) if not hasattr(v, "recurrence_id")), None
    )
    if master is None or not hasattr(master, "dtstart"):
        return None
    fallback = _zone(phone_zone) or UTC
    start_value = master.dtstart.value
    tzid = (
        master.dtstart.params.get("TZID")
        or master.dtstart.params.get("X-VOBJ-ORIGINAL-TZID")
        or [""]
    )[0]
    start, all_day = _ms(start_value, fallback)
    zone_name = "UTC" if all_day else (tzid if _zone(tzid) else "")
    if not zone_name:
        tzinfo = getattr(start_value, "tzinfo", None)
        key = getattr(tzinfo, "key", None)
        zone_name = (
            key
            if key
            else (
                "UTC"
                if tzinfo is not None and start_value.utcoffset() == timedelta(0)
                else phone_zone
            )
        )
    row: dict[str, Any] = {
        "title": str(master.summary.value) if hasattr(master, "summary") else "",
        "location": str(master.location.value) if hasattr(master, "location") else "",
        "description": str(master.description.value) if hasattr(master, "description") else "",
        "dtstart": start,
        "dtend": None,
        "duration": None,
        "allDay": int(all_day),
        "tz": zone_name,
        "rrule": str(master.rrule.value) if hasattr(master, "rrule") else None,
    }
    length = None
    if hasattr(master, "dtend"):
        end, _ = _ms(master.dtend.value, fallback)
        length = end - start
    elif hasattr(master, "duration"):
        length = int(master.duration.value.total_seconds() * 1000)
    elif all_day:
        length = 86_400_000
    else:
        length = 0
    if row["rrule"]:
        row["duration"] = f"P{length // 1000}S"
    else:
        row["dtend"] = start + length
    row["attendees"] = sorted(
        (
            (a.params.get("CN", [""])[0], re.sub(r"(?i)^mailto:", "", str(a.value)))
            for a in master.contents.get("attendee", [])
        ),
    )
    reminders = []
    for alarm in master.contents.get("valarm", []):
        trigger = getattr(alarm, "trigger", None)
        if trigger is not None and isinstance(trigger.value, timedelta):
            reminders.append(max(0, int(-trigger.value.total_seconds() // 60)))
    row["reminders"] = sorted(reminders)
    return str(master.uid.value) if hasattr(master, "uid") else "", row


# -- CardDAV objects <-> raw contacts ---------------------------------------------------------
def contact_to_vcf(c: dict[str, Any], uid: str) -> str:
    import vobject

    card = vobject.vCard()
    card.add("uid").value = uid
    name = c.get("name") or " ".join(x for x in (c.get("given"), c.get("family")) if x) or ""
    card.add("fn").value = name
    card.add("n").value = vobject.vcard.Name(
        family=c.get("family") or "", given=c.get("given") or ""
    )
    for number, kind in c.get("phones") or []:
        tel = card.add("tel")
        tel.value = number
        tel.params["TYPE"] = [PHONE_TYPES.get(int(kind or 2), "cell")]
    for address, kind in c.get("emails") or []:
        mail = card.add("email")
        mail.value = address
        mail.params["TYPE"] = [EMAIL_TYPES.get(int(kind or 1), "home")]
    if c.get("org"):
        card.add("org").value = [c["org"]]
    if c.get("note"):
        card.add("note").value = c["note"]
    return card.serialize()


def vcf_to_contact(text: str) -> tuple[str, dict[str, Any]] | None:
    import vobject

    try:
        card = vobject.readOne(text)
    except Exception:
        return None
    given = family = ""
    if hasattr(card, "n"):
        given, family = str(card.n.value.given or ""), str(card.n.value.family or "")
    name = str(card.fn.value) if hasattr(card, "fn") else " ".join(x for x in (given, family) if x)
    kinds_phone = {v: k for k, v in PHONE_TYPES.items()}
    kinds_email = {v: k for k, v in EMAIL_TYPES.items()}

    def kind(prop: Any, table: dict[str, int], default: int) -> int:
        for t in prop.params.get("TYPE", []):
            if t.lower() in table:
                return table[t.lower()]
            if t.lower() == "mobile":
                return 2
        return default

    org = ""
    if hasattr(card, "org"):
        value = card.org.value
        org = ";".join(value) if isinstance(value, list) else str(value)
    return str(card.uid.value) if hasattr(card, "uid") else "", {
        "name": name,
        "given": given,
        "family": family,
        "phones": [[str(t.value), kind(t, kinds_phone, 2)] for t in card.contents.get("tel", [])],
        "emails": [[str(e.value), kind(e, kinds_email, 1)] for e in card.contents.get("email", [])],
        "org": org,
        "note": str(card.note.value) if hasattr(card, "note") else "",
    }


# What the phone's rows hold; on upload only these replace the server's copy.
EVENT_PROPS = (
    "summary", "location", "description", "dtstart", "dtend", "duration", "rrule",
    "attendee", "valarm", "dtstamp",
)  # fmt: skip
CARD_PROPS = ("fn", "n", "tel", "email", "org", "note")


def merge_objects(base: str, fresh: str, component: str | None, props: tuple[str, ...]) -> str:
    """Put ``props`` of ``fresh`` into ``base``: in its master ``component`` (a VEVENT
    without RECURRENCE-ID, whose overrides stay) or in the vCard itself."""
    import vobject

    try:
        old, new = vobject.readOne(base), vobject.readOne(fresh)
    except Exception:
        return fresh  # a server copy the phone cannot read is replaced whole
    if component is None:
        target, source = old, new
    else:
        target = next(
            (c for c in old.contents.get(component, []) if not hasattr(c, "recurrence_id")), None
        )
        source = new.contents[component][0]
        if target is None:
            return fresh
        have = {str(t.tzid.value) for t in old.contents.get("vtimezone", []) if hasattr(t, "tzid")}
        for tz in new.contents.get("vtimezone", []):
            if hasattr(tz, "tzid") and str(tz.tzid.value) not in have:
                old.add(tz)
    for prop in props:
        target.contents.pop(prop, None)
        for child in source.contents.get(prop, []):
            target.add(child)
    return old.serialize()


# -- the sync engine --------------------------------------------------------------------------
class DavSync:
    """Two-way sync of one collection kind (``calendar`` or ``contacts``) for the account."""

    ext = ""
    content_type = ""

    def __init__(self, kind: str, ctx: Any, accounts: Accounts) -> None:
        self.kind, self.ctx, self.accounts = kind, ctx, accounts
        self.lock = threading.RLock()
        self.last_error = ""
        self.runs = 0

    # HTTP ----------------------------------------------------------------------------------
    def request(
        self,
        account: DavAccount,
        method: str,
        path: str,
        body: str = "",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        token = base64.b64encode(f"{account.user}:{account.password}".encode()).decode()
        sent = {"Authorization": f"Basic {token}", **(headers or {})}
        try:
            conn = net.HTTPConnection(account.host, account.port, timeout=30)
            try:
                conn.request(method, path, body=body.encode("utf-8"), headers=sent)
                resp = conn.getresponse()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
            finally:
                conn.close()
        except OSError as exc:
            raise SyncError(f"{method} {path}: {exc}") from exc

    def remote(self, account: DavAccount) -> dict[str, tuple[str, str]]:
        """href -> (etag, data) of every object in the collection (one REPORT)."""
        status, _h, body = self.request(
            account,
            "REPORT",
            account.path,
            QUERIES[self.kind],
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if status != 207:
            raise SyncError(f"REPORT {account.path} answered {status}")
        out = {}
        for resp in ET.fromstring(body).findall("D:response", NS):
            href = resp.findtext("D:href", "", NS)
            etag = resp.findtext(".//D:getetag", "", NS)
            data = resp.findtext(".//C:calendar-data", None, NS)
            if data is None:
                data = resp.findtext(".//R:address-data", None, NS)
            if data is not None and href:
                out[href] = (etag, data)
        return out

    def put(self, account: DavAccount, href: str, data: str, etag: str | None) -> str | None:
        """Upload; returns the new ETag, or None when the server's copy changed meanwhile."""
        headers = {"Content-Type": f"{self.content_type}; charset=utf-8"}
        headers.update({"If-Match": etag} if etag else {"If-None-Match": "*"})
        status, h, body = self.request(account, "PUT", href, data, headers)
        if status == 412:
            return None
        if status not in (200, 201, 204):
            raise SyncError(f"PUT {href} answered {status}: {body[:200]!r}")
        return h.get("etag") or ""

    def delete_remote(self, account: DavAccount, href: str, etag: str) -> None:
        status, _h, _b = self.request(
            account, "DELETE", href, headers={"If-Match": etag} if etag else {}
        )
        if status not in (200, 204, 404, 412):
            raise SyncError(f"DELETE {href} answered {status}")

    # state -----------------------------------------------------------------------------------
    def _state_path(self, account: DavAccount) -> str:
        # The account and its collection, not the server's port: a world restored from a
        # checkpoint serves the same collection behind the host alias on another port.
        key = hashlib.sha256(f"{account.host}{account.path}|{account.user}".encode()).hexdigest()
        key = key[:16]
        return f"{STATE_DIR}/sync-{self.kind}-{key}.json"

    def _load(self, account: DavAccount) -> dict[str, dict[str, str]]:
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self.ctx.vfs.read_bytes(self._state_path(account)))
        return {}

    def _save(self, account: DavAccount, state: dict[str, dict[str, str]]) -> None:
        self.ctx.vfs.mkdir(STATE_DIR)
        self.ctx.vfs.write_bytes(self._state_path(account), json.dumps(state).encode("utf-8"))

    # what subclasses provide -------------------------------------------------------------------
    def local(self, account: DavAccount) -> dict[int, dict[str, Any]]:
        raise NotImplementedError

    def write_local(
        self, account: DavAccount, local_id: int | None, row: dict[str, Any], uid: str
    ) -> int:
        raise NotImplementedError

    def delete_local(self, local_id: int) -> None:
        raise NotImplementedError

    def encode(self, row: dict[str, Any], uid: str) -> str:
        raise NotImplementedError

    def merge(self, base: str, fresh: str) -> str:
        """``base`` (the server's copy) with the properties the phone maps taken from
        ``fresh``; everything else in ``base`` is kept, as DAVx5 keeps unknown properties."""
        return fresh

    def decode(self, text: str) -> tuple[str, dict[str, Any]] | None:
        raise NotImplementedError

    # the sync ----------------------------------------------------------------------------------
    def sync(self) -> bool:
        """One two-way sync; False when the phone has no such account. Raises SyncError."""
        account = self.accounts.dav(self.kind)
        if account is None:
            return False
        with self.lock, self.ctx.providers.as_sync_adapter():
            try:
                self._sync(account)
            except SyncError as exc:
                self.last_error = str(exc)
                raise
            self.last_error = ""
            self.runs += 1
        return True

    def _sync(self, account: DavAccount) -> None:
        state = self._load(account)
        remote = self.remote(account)
        local = self.local(account)

        def apply(local_id: int | None, href: str, etag: str, data: str) -> None:
            decoded = self.decode(data)
            if decoded is None:
                return
            uid, row = decoded
            new_id = self.write_local(account, local_id, row, uid)
            fresh = self.local(account).get(new_id)
            state[str(new_id)] = {"href": href, "etag": etag, "uid": uid, "hash": _digest(fresh)}

        def upload(
            local_id: int,
            row: dict[str, Any],
            href: str,
            uid: str,
            etag: str | None,
            base: str | None = None,
        ) -> bool:
            data = self.encode(row, uid)
            if base is not None:  # keep what the phone does not map (overrides, addresses …)
                data = self.merge(base, data)
            new_etag = self.put(account, href, data, etag)
            if new_etag is None:
                return False
            state[str(local_id)] = {
                "href": href,
                "etag": new_etag,
                "uid": uid,
                "hash": _digest(row),
            }
            return True

        for key, known in list(state.items()):
            local_id, href = int(key), known["href"]
            mine = local.pop(local_id, None)
            theirs = remote.pop(href, None)
            changed_here = mine is not None and _digest(mine) != known["hash"]
            if mine is None:
                del state[key]
                if theirs is not None:
                    if theirs[0] == known["etag"]:
                        self.delete_remote(account, href, theirs[0])
                    else:  # changed on the server meanwhile: it comes back
                        apply(None, href, *theirs)
                continue
            if theirs is None:
                if changed_here:
                    upload(local_id, mine, href, known["uid"], None)
                else:
                    self.delete_local(local_id)
                    del state[key]
                continue
            if changed_here and theirs[0] == known["etag"]:
                if upload(local_id, mine, href, known["uid"], known["etag"], theirs[1]):
                    continue
                theirs = self.remote(account).get(href, theirs)
            if theirs[0] != known["etag"] or changed_here:
                apply(local_id, href, *theirs)
        for href, (etag, data) in remote.items():
            apply(None, href, etag, data)
        for local_id, row in local.items():
            uid = str(uuid.uuid4())
            upload(local_id, row, f"{account.path}{uid}{self.ext}", uid, None)
        self._save(account, state)


class CalendarSync(DavSync):
    ext = ".ics"
    content_type = "text/calendar"

    def __init__(self, ctx: Any, accounts: Accounts) -> None:
        super().__init__("calendar", ctx, accounts)

    def calendar_id(self, account: DavAccount) -> int:
        p = self.ctx.providers
        rows = p.query(
            f"{CAL}/calendars",
            ["_id", "name"],
            "account_type=? AND account_name=? AND _sync_id=?",
            [DAV_ACCOUNT_TYPE, account.user, account.path],
        )
        if rows:
            # The same collection on a moved server (a restored world's port): follow it.
            if rows[0]["name"] != account.url:
                p.update(f"{CAL}/calendars/{rows[0]['_id']}", {"name": account.url})
            return int(rows[0]["_id"])
        uri = p.insert(
            f"{CAL}/calendars",
            {
                "account_name": account.user,
                "account_type": DAV_ACCOUNT_TYPE,
                "name": account.url,
                "_sync_id": account.path,
                "calendar_displayName": "Calendar",
                "calendar_color": -16745729,
                "calendar_access_level": 700,
                "visible": 1,
                "sync_events": 1,
                "calendar_timezone": self.ctx.clock.timezone,
                "ownerAccount": account.user,
                "isPrimary": 1,
            },
        )
        return int(uri.rsplit("/", 1)[1])

    def local(self, account: DavAccount) -> dict[int, dict[str, Any]]:
        p = self.ctx.providers
        cal = self.calendar_id(account)
        rows = p.query(
            f"{CAL}/events",
            [
                "_id",
                "title",
                "eventLocation",
                "description",
                "dtstart",
                "dtend",
                "duration",
                "allDay",
                "eventTimezone",
                "rrule",
            ],
            "calendar_id=? AND deleted=0",
            [cal],
        )
        out: dict[int, dict[str, Any]] = {}
        ids = [r["_id"] for r in rows]
        reminders: dict[int, list[int]] = {}
        attendees: dict[int, list[tuple[str, str]]] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for r in p.query(
                f"{CAL}/reminders", ["event_id", "minutes"], f"event_id IN ({marks})", ids
            ):
                reminders.setdefault(int(r["event_id"]), []).append(int(r["minutes"] or 0))
            for r in p.query(
                f"{CAL}/attendees",
                ["event_id", "attendeeName", "attendeeEmail"],
                f"event_id IN ({marks})",
                ids,
            ):
                attendees.setdefault(int(r["event_id"]), []).append(
                    (r["attendeeName"] or "", r["attendeeEmail"] or "")
                )
        for r in rows:
            rid = int(r["_id"])
            out[rid] = {
                "title": r["title"] or "",
                "location": r["eventLocation"] or "",
                "description": r["description"] or "",
                "dtstart": int(r["dtstart"]) if r["dtstart"] is not None else 0,
                "dtend": int(r["dtend"]) if r["dtend"] is not None else None,
                "duration": r["duration"] or None,
                "allDay": int(r["allDay"] or 0),
                "tz": r["eventTimezone"] or "UTC",
                "rrule": r["rrule"] or None,
                "attendees": sorted(attendees.get(rid, [])),
                "reminders": sorted(reminders.get(rid, [])),
            }
        return out

    def write_local(
        self, account: DavAccount, local_id: int | None, row: dict[str, Any], uid: str
    ) -> int:
        p = self.ctx.providers
        values = {
            "title": row["title"],
            "eventLocation": row["location"],
            "description": row["description"],
            "dtstart": row["dtstart"],
            "dtend": row["dtend"],
            "duration": row["duration"],
            "allDay": row["allDay"],
            "eventTimezone": row["tz"],
            "rrule": row["rrule"],
            "uid2445": uid,
        }
        if local_id is None:
            values["calendar_id"] = self.calendar_id(account)
            local_id = int(p.insert(f"{CAL}/events", values).rsplit("/", 1)[1])
        else:
            p.update(f"{CAL}/events/{local_id}", values)
            p.delete(f"{CAL}/reminders", "event_id=?", [local_id])
            p.delete(f"{CAL}/attendees", "event_id=?", [local_id])
        for minutes in row["reminders"]:
            p.insert(f"{CAL}/reminders", {"event_id": local_id, "minutes": minutes, "method": 1})
        for name, address in row["attendees"]:
            p.insert(
                f"{CAL}/attendees",
                {
                    "event_id": local_id,
                    "attendeeName": name,
                    "attendeeEmail": address,
                    "attendeeType": 1,
                },
            )
        return local_id

    def delete_local(self, local_id: int) -> None:
        self.ctx.providers.delete(f"{CAL}/events/{local_id}")

    def encode(self, row: dict[str, Any], uid: str) -> str:
        return event_to_ics(row, uid, self.ctx.clock.now())

    def merge(self, base: str, fresh: str) -> str:
        return merge_objects(base, fresh, "vevent", EVENT_PROPS)

    def decode(self, text: str) -> tuple[str, dict[str, Any]] | None:
        return ics_to_event(text, self.ctx.clock.timezone)


class ContactsSync(DavSync):
    ext = ".vcf"
    content_type = "text/vcard"

    def __init__(self, ctx: Any, accounts: Accounts) -> None:
        super().__init__("contacts", ctx, accounts)

    def local(self, account: DavAccount) -> dict[int, dict[str, Any]]:
        p = self.ctx.providers
        raws = p.query(
            f"{CONTACTS}/raw_contacts",
            ["_id"],
            "account_type=? AND account_name=? AND deleted=0",
            [DAV_ACCOUNT_TYPE, account.user],
        )
        out: dict[int, dict[str, Any]] = {
            int(r["_id"]): {
                "name": "",
                "given": "",
                "family": "",
                "phones": [],
                "emails": [],
                "org": "",
                "note": "",
            }
            for r in raws
        }
        if not out:
            return out
        marks = ",".join("?" * len(out))
        rows = p.query(
            f"{CONTACTS}/data",
            ["raw_contact_id", "mimetype", "data1", "data2", "data3"],
            f"raw_contact_id IN ({marks})",
            list(out),
            sort="_id ASC",
        )
        for r in rows:
            c = out[int(r["raw_contact_id"])]
            mime = r["mimetype"]
            if mime == MIME_NAME:
                c.update(name=r["data1"] or "", given=r["data2"] or "", family=r["data3"] or "")
            elif mime == MIME_PHONE and r["data1"]:
                c["phones"].append([r["data1"], int(r["data2"] or 2)])
            elif mime == MIME_EMAIL and r["data1"]:
                c["emails"].append([r["data1"], int(r["data2"] or 1)])
            elif mime == MIME_ORG:
                c["org"] = r["data1"] or ""
            elif mime == MIME_NOTE:
                c["note"] = r["data1"] or ""
        return out

    def write_local(
        self, account: DavAccount, local_id: int | None, row: dict[str, Any], uid: str
    ) -> int:
        p = self.ctx.providers
        if local_id is None:
            uri = p.insert(
                f"{CONTACTS}/raw_contacts",
                {"account_name": account.user, "account_type": DAV_ACCOUNT_TYPE, "sourceid": uid},
            )
            local_id = int(uri.rsplit("/", 1)[1])
        else:
            p.delete(f"{CONTACTS}/data", "raw_contact_id=?", [local_id])
        data = f"{CONTACTS}/data"
        if row["name"] or row["given"] or row["family"]:
            p.insert(
                data,
                {
                    "raw_contact_id": local_id,
                    "mimetype": MIME_NAME,
                    "data1": row["name"] or None,
                    "data2": row["given"] or None,
                    "data3": row["family"] or None,
                },
            )
        for number, kind in row["phones"]:
            p.insert(
                data,
                {
                    "raw_contact_id": local_id,
                    "mimetype": MIME_PHONE,
                    "data1": number,
                    "data2": kind,
                },
            )
        for address, kind in row["emails"]:
            p.insert(
                data,
                {
                    "raw_contact_id": local_id,
                    "mimetype": MIME_EMAIL,
                    "data1": address,
                    "data2": kind,
                },
            )
        if row["org"]:
            p.insert(data, {"raw_contact_id": local_id, "mimetype": MIME_ORG, "data1": row["org"]})
        if row["note"]:
            p.insert(
                data, {"raw_contact_id": local_id, "mimetype": MIME_NOTE, "data1": row["note"]}
            )
        return local_id

    def delete_local(self, local_id: int) -> None:
        self.ctx.providers.delete(f"{CONTACTS}/raw_contacts/{local_id}")

    def encode(self, row: dict[str, Any], uid: str) -> str:
        return contact_to_vcf(row, uid)

    def merge(self, base: str, fresh: str) -> str:
        return merge_objects(base, fresh, None, CARD_PROPS)

    def decode(self, text: str) -> tuple[str, dict[str, Any]] | None:
        return vcf_to_contact(text)


SyncRun = Callable[[], bool]
