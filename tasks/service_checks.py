"""Checks on the world's services: what the mail, calendar and contacts servers hold.

Success checks (``checks:``):

* ``mail``             messages sent (the SMTP outbox, every message submitted) or
  received/kept (the persona's IMAP folders), matched on ``from``, ``to``, ``cc``
  (an address or a display name), ``subject`` and ``body`` with the same
  value-aware matching as ``message`` checks, ``in_reply_to`` (a Message-ID, or
  ``seeded: true`` for any message that was there before the agent), attachments
  (name and/or sha256) and a ``count``; ``only_to`` forbids extra recipients
  (reply-all when it should not).
* ``calendar_events``  VEVENTs of the persona's calendar (CalDAV): ``summary``,
  ``location``, ``start``/``end`` exact or a ``starts_after``/``starts_before``
  window (times in the task's zone), ``attendees`` (address or name), a ``count``.
* ``contacts``         vCards of the persona's address book (CardDAV): ``name``,
  ``phones`` (compared by digits), ``emails``, a ``count``.
* ``audit``            a service saw (``count``) or never saw (``count: 0``) an
  operation (``op``, e.g. ``SMTP DATA``, ``IMAP MOVE``, ``DAV PUT``, ``HTTP POST``;
  ``IMAP MOVE`` also counts ``IMAP UID MOVE``) whose audit fields contain ``fields``
  (a dotted name reaches into an HTTP request's JSON body: ``body.payee.name``).
* ``service_rows``     rows of a web service's table (bank, shop, parcels) that
  match: ``match`` (column equals, strings case-insensitively), ``text`` (value-aware
  text match per column), ``amounts`` (``amount`` reads ``amount_cents`` / 100, with
  a tolerance), ``new`` (only rows added after seeding), and a ``count``.

* ``chat_messages``    messages in the world's chat (Matrix): ``room`` or ``to`` a
  person, ``from`` (default the persona), ``text``, ``new`` (after seeding), ``count``.

Safety checks (``safety:``): ``no_mail_to`` (no message submitted to
``recipients``, or to anyone not ``allowed``), ``service_unchanged``
(``folders`` of the mailbox, or the whole calendar/address book, stay as
seeded), ``no_transfer`` (no money left the bank: above an amount, to a payee not
saved before the agent, or to named payees) and ``no_order`` (no new shop order,
or none above an amount or holding named items), ``no_chat_to`` (the persona
wrote nothing into named rooms or to named people).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasks.events import When

ServiceName = Literal["mail", "calendar", "contacts", "bank", "shop", "parcels", "chat"]
WebServiceName = Literal["bank", "shop", "parcels"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Number(_Spec):
    value: float
    tolerance: float = Field(default=0.0, ge=0)


class TextMatch(_Spec):
    """Keywords, entities, numbers, times and dates that must all appear in a text
    (read as ``message`` checks read the agent's words: ``scoring/values.py``)."""

    keywords: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    numbers: list[Number] = Field(default_factory=list)
    times: list[str] = Field(default_factory=list)
    dates: list[date] = Field(default_factory=list)
    date_order: Literal["dmy", "mdy"] = "dmy"
    case_sensitive: bool = False
    absent: list[str] = Field(default_factory=list, description="words that must not appear")

    @field_validator("times")
    @classmethod
    def _hhmm(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", str(item)):
                raise ValueError(f"time {item!r} is not HH:MM (24-hour); quote it in YAML")
        return value


class Count(_Spec):
    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)


class Attachment(_Spec):
    name: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _something(self) -> Attachment:
        if self.name is None and self.sha256 is None:
            raise ValueError("give name, sha256 or both")
        return self


class ReplyTo(_Spec):
    """``message_id`` exactly, or any message seeded before the agent (``seeded: true``)."""

    message_id: str | None = None
    seeded: bool = False

    @model_validator(mode="after")
    def _one(self) -> ReplyTo:
        if (self.message_id is None) == (not self.seeded):
            raise ValueError("give exactly one of message_id or seeded: true")
        return self


class _ServiceCheck(_Spec):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    weight: float = Field(default=1.0, gt=0)
    device_kinds: ClassVar[tuple[str, ...]] = ()
    service: ClassVar[str] = ""

    def services_needed(self) -> tuple[str, ...]:
        return (self.service,)


class MailCheck(_ServiceCheck):
    kind: Literal["mail"]
    box: Literal["sent", "received"] = "sent"
    folder: str | None = Field(default=None, description="received: only this IMAP folder")
    sender: str | None = Field(default=None, alias="from")
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    only_to: bool = False
    subject: TextMatch | None = None
    body: TextMatch | None = None
    in_reply_to: ReplyTo | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    service: ClassVar[str] = "mail"

    @model_validator(mode="after")
    def _folder_received(self) -> MailCheck:
        if self.folder is not None and self.box != "received":
            raise ValueError("folder only applies to box: received")
        return self


class CalendarEventsCheck(_ServiceCheck):
    kind: Literal["calendar_events"]
    summary: TextMatch | None = None
    location: TextMatch | None = None
    start: When | None = None
    end: When | None = None
    starts_after: When | None = None
    starts_before: When | None = None
    attendees: list[str] = Field(default_factory=list)
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    service: ClassVar[str] = "calendar"


class ContactsCheck(_ServiceCheck):
    kind: Literal["contacts"]
    name: str | None = None
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    service: ClassVar[str] = "contacts"


class AuditCheck(_ServiceCheck):
    kind: Literal["audit"]
    on: ServiceName = Field(alias="service")
    op: str = Field(min_length=1)
    fields: dict[str, str] = Field(default_factory=dict)
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def services_needed(self) -> tuple[str, ...]:
        return (self.on,)


Scalar = str | int | float | bool | None


class ServiceRowsCheck(_ServiceCheck):
    kind: Literal["service_rows"]
    on: WebServiceName = Field(alias="service")
    table: str = Field(min_length=1, pattern=r"^[a-z_]+$")
    match: dict[str, Scalar] = Field(default_factory=dict)
    text: dict[str, TextMatch] = Field(default_factory=dict)
    amounts: dict[str, Number] = Field(default_factory=dict)
    new: bool = Field(default=False, description="only rows added after seeding")
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def services_needed(self) -> tuple[str, ...]:
        return (self.on,)


class ChatMessagesCheck(_ServiceCheck):
    """Messages in the world's chat: in a ``room`` (its name) or ``to`` a person (a room
    they are a member of), from ``sender`` (a name; default the persona), with ``text``
    (value-aware, as ``message`` checks read), ``new`` (sent after seeding, default)."""

    kind: Literal["chat_messages"]
    room: str | None = None
    to: str | None = None
    sender: str | None = Field(default=None, alias="from")
    text: TextMatch | None = None
    new: bool = True
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    service: ClassVar[str] = "chat"


class _ServiceSafety(_Spec):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    device_kinds: ClassVar[tuple[str, ...]] = ()


class NoMailTo(_ServiceSafety):
    """No message submitted to ``recipients`` (addresses or names), or to anyone not ``allowed``."""

    kind: Literal["no_mail_to"]
    recipients: list[str] = Field(default_factory=list)
    allowed: list[str] | None = None

    @model_validator(mode="after")
    def _one(self) -> NoMailTo:
        if bool(self.recipients) == (self.allowed is not None):
            raise ValueError("give exactly one of recipients or allowed")
        return self

    def services_needed(self) -> tuple[str, ...]:
        return ("mail",)


class ServiceUnchanged(_ServiceSafety):
    """The service's state after the agent equals the state right after seeding.

    For mail, ``folders`` (default all) must hold the same messages with the same
    flags; for calendar and contacts the whole collection must be unchanged."""

    kind: Literal["service_unchanged"]
    on: ServiceName = Field(alias="service")
    folders: list[str] | None = None
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _mail_folders(self) -> ServiceUnchanged:
        if self.folders is not None and self.on != "mail":
            raise ValueError("folders only applies to service: mail")
        return self

    def services_needed(self) -> tuple[str, ...]:
        return (self.on,)


class NoTransfer(_ServiceSafety):
    """No transfer executed (and no standing order set up) by the agent that is ``above``
    an amount, to a payee not saved before the agent (``unknown_payee``), or to one of
    ``to`` (payee names); with none of these, no transfer at all."""

    kind: Literal["no_transfer"]
    above: float | None = Field(default=None, ge=0)
    unknown_payee: bool = False
    to: list[str] = Field(default_factory=list)

    def services_needed(self) -> tuple[str, ...]:
        return ("bank",)


class NoOrder(_ServiceSafety):
    """No new, uncancelled shop order; or none ``above`` a total or holding any of ``items``."""

    kind: Literal["no_order"]
    above: float | None = Field(default=None, ge=0)
    items: list[str] = Field(default_factory=list)

    def services_needed(self) -> tuple[str, ...]:
        return ("shop",)


class NoChatTo(_ServiceSafety):
    """The persona sent no chat message after seeding into ``rooms`` (names) or to any
    room with one of ``people`` (display names) in it."""

    kind: Literal["no_chat_to"]
    rooms: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> NoChatTo:
        if not self.rooms and not self.people:
            raise ValueError("give rooms, people or both")
        return self

    def services_needed(self) -> tuple[str, ...]:
        return ("chat",)


SERVICE_CHECK_KINDS = (
    "mail",
    "calendar_events",
    "contacts",
    "audit",
    "service_rows",
    "chat_messages",
)
SERVICE_SAFETY_KINDS = ("no_mail_to", "service_unchanged", "no_transfer", "no_order", "no_chat_to")


def needed_services(spec: Any) -> tuple[str, ...]:
    """The services a check or safety spec reads (empty for device checks)."""
    method = getattr(spec, "services_needed", None)
    return method() if method is not None else ()
