"""The event model: a user's digital life as time-ordered, typed events.

Each event happens at ``t`` and is aimed at a ``target``: a device role of the
task (``phone``, ``laptop`` …) or a service (``service:mail``). Each kind carries
exactly the fields its target needs to be seeded, so compiling a stream into a
device's seed plan is a lookup, not a guess: an SMS knows its address and body,
a mail its headers and body, a calendar event its id, span and series rule.

Times given as relative strings (``-3d 09:15``) are resolved against the task's
``now`` and timezone, passed as validation context ``{"now": dt, "tz": "Area/City"}``;
streams on disk hold absolute ISO 8601 times only.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationInfo,
    model_validator,
)

from tasks.loader import register_branch_labels
from tasks.times import TimeInvalid, iso, resolve, zone

SERVICES = ("mail", "calendar", "contacts", "chat", "shop", "bank", "parcels")
SERVICE_PREFIX = "service:"


def _when(value: Any, info: ValidationInfo) -> Any:
    ctx = info.context or {}
    now, tz = ctx.get("now"), ctx.get("tz")
    if isinstance(value, str) and now is not None and tz is not None:
        try:
            return resolve(value, now, tz)
        except TimeInvalid as exc:
            raise ValueError(str(exc)) from None
    if isinstance(value, datetime) and value.tzinfo is None and now is not None and tz:
        return resolve(value, now, tz)
    if isinstance(value, str) and not value[:4].isdigit():
        raise ValueError(f"{value!r}: a relative time needs the task's now; streams hold ISO times")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time has no UTC offset (write e.g. 2026-03-01T09:15:00+01:00)")
    return value


def _relative_path(value: str) -> str:
    parts = value.split("/")
    if not value or value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(
            f"{value!r} must be a relative path inside the folder (no leading /, no . or ..)"
        )
    if "\x00" in value:
        raise ValueError("a path cannot contain NUL")
    return value


def _file_name(value: str) -> str:
    if "/" in value:
        raise ValueError(f"{value!r} must be a plain file name (no /)")
    return _relative_path(value)


RelPath = Annotated[str, AfterValidator(_relative_path)]
FileName = Annotated[str, AfterValidator(_file_name)]

When = Annotated[
    datetime,
    BeforeValidator(_when),
    AfterValidator(_aware),
    PlainSerializer(iso, return_type=str, when_used="json"),
]
Money = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str)]
Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
DeviceKindName = Literal["android", "linux"]


class EventBase(BaseModel):
    """Fields every event has; ``tags`` mark generator roles like ``noise`` or ``conflict``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    t: When
    kind: str
    target: str
    tags: list[str] = Field(default_factory=list)

    # Which device kinds (and services) may receive this kind.
    device_kinds: ClassVar[tuple[str, ...]] = ()
    services: ClassVar[tuple[str, ...]] = ()
    text_fields: ClassVar[tuple[str, ...]] = ()

    def device_problem(self, kind: str) -> str | None:
        """Why this event cannot go to a device of ``kind`` beyond its kind list, or None."""
        return None

    def words(self) -> int:
        """Whitespace-separated words of the human-readable text this event carries."""
        total = 0
        for name in self.text_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                total += len(value.split())
        return total


class _Android(EventBase):
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)


class ContactAdded(_Android):
    services: ClassVar[tuple[str, ...]] = ("contacts",)
    kind: Literal["contact.added"]
    contact_id: str
    name: str
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    org: str | None = None
    note: str | None = None
    text_fields: ClassVar[tuple[str, ...]] = ("name", "note")


class ContactEdited(_Android):
    """Only the fields given change; ``None`` leaves a field as it was."""

    services: ClassVar[tuple[str, ...]] = ("contacts",)
    kind: Literal["contact.edited"]
    contact_id: str
    name: str | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None
    org: str | None = None
    note: str | None = None
    text_fields: ClassVar[tuple[str, ...]] = ("name", "note")


class SmsReceived(_Android):
    kind: Literal["sms.received"]
    address: str
    body: str
    read: bool = True
    text_fields: ClassVar[tuple[str, ...]] = ("body",)


class SmsSent(_Android):
    kind: Literal["sms.sent"]
    address: str
    body: str
    text_fields: ClassVar[tuple[str, ...]] = ("body",)


class CallIncoming(_Android):
    kind: Literal["call.incoming"]
    number: str
    duration_s: int = Field(ge=0)


class CallOutgoing(_Android):
    kind: Literal["call.outgoing"]
    number: str
    duration_s: int = Field(ge=0)


class CallMissed(_Android):
    kind: Literal["call.missed"]
    number: str


class _Calendar(EventBase):
    services: ClassVar[tuple[str, ...]] = ("calendar",)
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)


class Attendee(BaseModel):
    """A guest of a calendar entry, as the calendar provider's attendees table holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str


class CalendarCreated(_Calendar):
    """A calendar entry; ``rrule`` (RFC 5545, e.g. ``FREQ=WEEKLY;BYDAY=MO``) makes a series;
    ``reminders`` are minutes before the start (the phone shows each as a notification)."""

    kind: Literal["calendar.created"]
    event_id: str
    title: str
    start: When
    end: When
    all_day: bool = False
    location: str | None = None
    description: str | None = None
    attendees: list[Attendee] = Field(default_factory=list)
    rrule: str | None = None
    # Minutes before the start at which the phone's calendar reminds (VALARM on CalDAV).
    reminders: list[Annotated[int, Field(ge=0, le=40320)]] = Field(
        default_factory=list, max_length=5
    )
    text_fields: ClassVar[tuple[str, ...]] = ("title", "location", "description")

    def model_post_init(self, _ctx: Any) -> None:
        if self.end < self.start:
            raise ValueError("end is before start")


class CalendarMoved(_Calendar):
    kind: Literal["calendar.moved"]
    event_id: str
    start: When
    end: When


class CalendarCancelled(_Calendar):
    kind: Literal["calendar.cancelled"]
    event_id: str


class AlarmSet(_Android):
    kind: Literal["alarm.set"]
    alarm_id: str
    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)
    label: str = ""
    days: list[Weekday] = Field(default_factory=list)
    enabled: bool = True
    text_fields: ClassVar[tuple[str, ...]] = ("label",)


class _Either(EventBase):
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")


class NoteWritten(_Either):
    """A markdown note; ``path`` is relative to the device's notes folder."""

    kind: Literal["note.written"]
    path: RelPath
    text: str
    text_fields: ClassVar[tuple[str, ...]] = ("text",)


class NoteEdited(_Either):
    """The note's whole new text (seeding writes the final version)."""

    kind: Literal["note.edited"]
    path: RelPath
    text: str
    text_fields: ClassVar[tuple[str, ...]] = ("text",)


class FileDownloaded(_Either):
    """A text file saved into the device's downloads folder under ``name``."""

    kind: Literal["file.downloaded"]
    name: FileName
    url: str
    mime: str = "text/plain"
    text: str
    text_fields: ClassVar[tuple[str, ...]] = ("text",)


HOME = "~/"
SDCARD = "/sdcard/"
PLACE_ROOTS = {"linux": HOME, "android": SDCARD}
MAX_PLACED_BYTES = 16 * 1024 * 1024


def _placed_path(value: str) -> str:
    root = next((r for r in PLACE_ROOTS.values() if value.startswith(r)), None)
    if root is None:
        raise ValueError(
            f"{value!r} must start with ~/ (the laptop user's home) or /sdcard/ (the phone's "
            "shared storage)"
        )
    _relative_path(value[len(root) :])
    return value


def _octal_mode(value: Any) -> Any:
    if isinstance(value, str):
        text = value.removeprefix("0o")
        if not text or any(ch not in "01234567" for ch in text):
            raise ValueError(f"mode {value!r} is not octal (write e.g. 0o644 or '0644')")
        return int(text, 8)
    return value


def _mode_range(value: int) -> int:
    if not 0 <= value <= 0o777:
        raise ValueError(
            f"mode {value} is not a permission mode; write it in octal, e.g. 0o644 or '0644' "
            "(YAML reads 644 as decimal)"
        )
    return value


def _blob(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data is not base64: {exc}") from None
    return value


Blob = Annotated[
    bytes,
    BeforeValidator(_blob),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), return_type=str),
]
Mode = Annotated[int, BeforeValidator(_octal_mode), AfterValidator(_mode_range)]


class FilePlaced(_Either):
    """A file at any path under the laptop user's home (``~/…``) or the phone's ``/sdcard/…``.

    Its bytes are ``text`` (UTF-8) or ``source``, a file bundled in the task folder
    (``files/invoice.pdf``) that loading reads into ``data`` (base64 in a stream), so a
    stream on disk carries the bytes it seeds. ``mtime`` defaults to ``t``.
    """

    kind: Literal["file.placed"]
    path: Annotated[str, AfterValidator(_placed_path)]
    text: str | None = None
    source: RelPath | None = None
    data: Blob | None = None
    mode: Mode = 0o644
    mtime: When | None = None
    text_fields: ClassVar[tuple[str, ...]] = ("text",)

    @model_validator(mode="after")
    def _one_content(self) -> FilePlaced:
        if (self.text is None) == (self.source is None):
            raise ValueError("give exactly one of text or source (a file in the task folder)")
        if self.data is not None and self.source is None:
            raise ValueError("data comes from source; write text for inline content")
        if self.data is not None and len(self.data) > MAX_PLACED_BYTES:
            raise ValueError(f"data is larger than {MAX_PLACED_BYTES} bytes")
        return self

    def device_problem(self, kind: str) -> str | None:
        root = PLACE_ROOTS.get(kind)
        if root is not None and not self.path.startswith(root):
            where = "the laptop user's home" if kind == "linux" else "the phone's shared storage"
            article = "an" if kind[0] in "aeiou" else "a"
            return (
                f"a file on {article} {kind} device goes under {root} ({where}); got {self.path!r}"
            )
        return None

    def content(self) -> bytes:
        """The bytes to seed; a ``source`` must have been read by loading the task."""
        if self.text is not None:
            return self.text.encode("utf-8")
        if self.data is None:
            raise ValueError(
                f"event {self.id}: {self.source!r} was not read; load the task folder to seed it"
            )
        return self.data


class PhotoTaken(_Android):
    """A camera photo; the picture is generated from ``subject`` and carries ``t`` as EXIF time."""

    kind: Literal["photo.taken"]
    name: FileName
    subject: str
    width: int = Field(default=1600, ge=16, le=8000)
    height: int = Field(default=1200, ge=16, le=8000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    text_fields: ClassVar[tuple[str, ...]] = ("subject",)


class _Mail(EventBase):
    device_kinds: ClassVar[tuple[str, ...]] = ("linux",)
    services: ClassVar[tuple[str, ...]] = ("mail",)
    message_id: str
    sender: str
    to: list[str]
    cc: list[str] = Field(default_factory=list)
    subject: str
    body: str
    in_reply_to: str | None = None
    text_fields: ClassVar[tuple[str, ...]] = ("subject", "body")


class MailReceived(_Mail):
    """Lands in the Maildir inbox (``~/Mail/INBOX`` on Linux)."""

    kind: Literal["mail.received"]
    read: bool = True


class MailSent(_Mail):
    kind: Literal["mail.sent"]


class ShellCommand(EventBase):
    """One line of ``~/.bash_history`` with its timestamp."""

    kind: Literal["shell.command"]
    command: str
    device_kinds: ClassVar[tuple[str, ...]] = ("linux",)
    text_fields: ClassVar[tuple[str, ...]] = ("command",)


class TodoAdded(_Either):
    kind: Literal["todo.added"]
    todo_id: str
    text: str
    due: When | None = None
    text_fields: ClassVar[tuple[str, ...]] = ("text",)


class TodoDone(_Either):
    kind: Literal["todo.done"]
    todo_id: str


class PriceAlert(EventBase):
    kind: Literal["price.alert"]
    item: str
    shop: str
    price: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    url: str
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)
    services: ClassVar[tuple[str, ...]] = ("shop",)
    text_fields: ClassVar[tuple[str, ...]] = ("item",)


class BankTransaction(EventBase):
    """Negative ``amount`` is money out. On Linux it is a row of the bank's CSV export."""

    kind: Literal["bank.transaction"]
    account: str
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    counterparty: str
    reference: str = ""
    balance: Money | None = None
    device_kinds: ClassVar[tuple[str, ...]] = ("linux",)
    services: ClassVar[tuple[str, ...]] = ("bank",)
    text_fields: ClassVar[tuple[str, ...]] = ("counterparty", "reference")


class BankStandingOrder(EventBase):
    """A standing order set up at ``t``: ``amount`` (positive) leaves ``account`` for
    ``payee`` on ``next_date`` and then every ``interval`` (a monthly one on the day of
    ``first_date``, or the month's last), up to ``end_date``. ``next_date`` lies after
    ``now``: what it paid before is in the stream's ``bank.transaction`` events, as a real
    account shows it; from then on the bank books it as world time passes."""

    kind: Literal["bank.standing_order"]
    account: str
    payee: str = Field(min_length=1)
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{8,32}$")
    amount: Annotated[Decimal, Field(gt=0)]
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reference: str = ""
    interval: Literal["weekly", "monthly", "quarterly", "half-yearly", "yearly"] = "monthly"
    next_date: date
    first_date: date | None = None
    end_date: date | None = None
    services: ClassVar[tuple[str, ...]] = ("bank",)
    text_fields: ClassVar[tuple[str, ...]] = ("payee", "reference")

    @model_validator(mode="after")
    def _dates(self, info: ValidationInfo) -> BankStandingOrder:
        ctx = info.context or {}
        now, tz = ctx.get("now"), ctx.get("tz")
        if now is not None and tz is not None:
            today = now.astimezone(zone(tz) if isinstance(tz, str) else tz).date()
            if self.next_date <= today:
                raise ValueError(
                    f"next_date {self.next_date} must lie after now ({today}): a real "
                    "account's standing order has run today and before; give those runs as "
                    "bank.transaction events and the next one still to come here"
                )
        if self.end_date is not None and self.end_date < self.next_date:
            raise ValueError(f"end_date {self.end_date} is before next_date {self.next_date}")
        if self.first_date is not None and self.first_date > self.next_date:
            raise ValueError(f"first_date {self.first_date} is after next_date {self.next_date}")
        return self


class ChatMessage(EventBase):
    kind: Literal["chat.message"]
    room: str
    sender: str
    body: str
    outgoing: bool = False
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")
    services: ClassVar[tuple[str, ...]] = ("chat",)
    text_fields: ClassVar[tuple[str, ...]] = ("body",)


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    qty: int = Field(default=1, ge=1, le=99)
    price: Money


class ShopOrder(EventBase):
    """An order the persona placed at the world's shop (service only: no device holds it)."""

    kind: Literal["shop.order"]
    order_id: str = Field(min_length=1)
    shop: str
    lines: list[OrderLine] = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    status: Literal["placed", "shipped", "delivered", "cancelled", "returned"] = "placed"
    services: ClassVar[tuple[str, ...]] = ("shop",)
    text_fields: ClassVar[tuple[str, ...]] = ("shop",)


class ParcelUpdate(EventBase):
    """A carrier's tracking event; the first one for a ``tracking`` number creates the shipment."""

    kind: Literal["parcel.update"]
    tracking: str = Field(min_length=1)
    carrier: str
    status: Literal["announced", "in_transit", "out_for_delivery", "delivered", "failed"]
    text: str = ""
    location: str = ""
    sender: str = ""
    description: str = ""
    eta: When | None = None
    order_id: str = ""
    services: ClassVar[tuple[str, ...]] = ("parcels",)
    text_fields: ClassVar[tuple[str, ...]] = ("text", "description")


EVENT_CLASSES: tuple[type[EventBase], ...] = (
    ContactAdded,
    ContactEdited,
    SmsReceived,
    SmsSent,
    CallIncoming,
    CallOutgoing,
    CallMissed,
    CalendarCreated,
    CalendarMoved,
    CalendarCancelled,
    AlarmSet,
    NoteWritten,
    NoteEdited,
    FileDownloaded,
    FilePlaced,
    PhotoTaken,
    MailReceived,
    MailSent,
    ShellCommand,
    TodoAdded,
    TodoDone,
    PriceAlert,
    BankTransaction,
    BankStandingOrder,
    ChatMessage,
    ShopOrder,
    ParcelUpdate,
)
KINDS: dict[str, type[EventBase]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in EVENT_CLASSES
}

register_branch_labels(KINDS)
# Kinds only a task's plot writes (the generator's lives use the specific kinds).
PLOT_ONLY = frozenset({"file.placed", "bank.standing_order"})

Event = Annotated[
    ContactAdded
    | ContactEdited
    | SmsReceived
    | SmsSent
    | CallIncoming
    | CallOutgoing
    | CallMissed
    | CalendarCreated
    | CalendarMoved
    | CalendarCancelled
    | AlarmSet
    | NoteWritten
    | NoteEdited
    | FileDownloaded
    | FilePlaced
    | PhotoTaken
    | MailReceived
    | MailSent
    | ShellCommand
    | TodoAdded
    | TodoDone
    | PriceAlert
    | BankTransaction
    | BankStandingOrder
    | ChatMessage
    | ShopOrder
    | ParcelUpdate,
    Field(discriminator="kind"),
]
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def target_problem(event: EventBase, roles: dict[str, str]) -> str | None:
    """Why ``event`` cannot go to its target given the task's ``role -> kind``, or None."""
    target = event.target
    if target.startswith(SERVICE_PREFIX):
        name = target[len(SERVICE_PREFIX) :]
        if name not in SERVICES:
            return f"unknown service {name!r}; expected one of {', '.join(SERVICES)}"
        if name not in event.services:
            return f"a {event.kind} event cannot go to {target}"
        return None
    if target not in roles:
        declared = ", ".join(sorted(roles)) or "none"
        return f"role {target!r} is not declared in devices (declared: {declared})"
    if roles[target] not in event.device_kinds:
        allowed = " or ".join(event.device_kinds)
        if not allowed:
            return f"a {event.kind} event goes to a service, not a device"
        article = "an" if allowed[0] in "aeiou" else "a"
        return (
            f"a {event.kind} event needs {article} {allowed} device; {target!r} is {roles[target]}"
        )
    return None


def sort_key(event: EventBase) -> tuple[datetime, str]:
    return (event.t, event.id or "")


# Which field of a kind names the thing it creates, and which kinds refer back to it.
_CREATES = {
    "contact.added": "contact_id",
    "calendar.created": "event_id",
    "todo.added": "todo_id",
    "note.written": "path",
}
_REFERS = {
    "contact.edited": ("contact_id", "contact.added"),
    "calendar.moved": ("event_id", "calendar.created"),
    "calendar.cancelled": ("event_id", "calendar.created"),
    "todo.done": ("todo_id", "todo.added"),
    "note.edited": ("path", "note.written"),
}

REFERRING = frozenset(_REFERS)


def dangling_references(events: list[EventBase]) -> list[tuple[EventBase, str]]:
    """Events that refer to something not created earlier on the same target (time order).

    A ``calendar.moved`` for an event id that no earlier ``calendar.created`` on that
    target made cannot be seeded; neither can a ``todo.done`` for an unknown todo.
    """
    made: set[tuple[str, str, str]] = set()
    out: list[tuple[EventBase, str]] = []
    for event in sorted(events, key=lambda e: e.t):
        if event.kind in _CREATES:
            made.add((event.target, event.kind, getattr(event, _CREATES[event.kind])))
        if event.kind in _REFERS:
            fld, creator = _REFERS[event.kind]
            value = getattr(event, fld)
            if (event.target, creator, value) not in made:
                out.append((event, f"{fld} {value!r}: no earlier {creator} on {event.target}"))
    return out


_UNIQUE = {
    "photo.taken": "name",
    "file.downloaded": "name",
    "note.written": "path",
    "mail.received": "message_id",
    "mail.sent": "message_id",
    "contact.added": "contact_id",
    "calendar.created": "event_id",
    "todo.added": "todo_id",
    "alarm.set": None,
}


def duplicate_names(events: list[EventBase]) -> list[tuple[EventBase, str]]:
    """Later events that create a name already taken on the same target (a file, a mail id …).

    Seeding would overwrite the first one silently; an edit is its own kind.
    """
    seen: dict[tuple[str, str, str], EventBase] = {}
    out: list[tuple[EventBase, str]] = []
    for event in sorted(events, key=lambda e: e.t):
        fld = _UNIQUE.get(event.kind)
        if fld is None:
            continue
        group = "mail" if event.kind.startswith("mail.") else event.kind
        key = (event.target, group, getattr(event, fld))
        if key in seen:
            first = seen[key]
            out.append(
                (
                    event,
                    f"{fld} {key[2]!r} is already used on {event.target} by "
                    f"{first.id or 'an earlier event'} ({first.kind})",
                )
            )
        else:
            seen[key] = event
    return out
