"""Reading a world's services for scoring and seed verification: ``service.read_state(query)``.

The same shape as the device readers (``docs/state.md``): small typed queries
discriminated on ``kind``; answers are plain data. Bad input raises
:class:`ServiceInputError` naming the query; a server that is gone raises
:class:`~rig.services.base.ServiceDown` (infrastructure, never the agent's failure).

Kinds, by service:

- mail: ``mail_messages`` (every message in the persona's folders, over IMAP),
  ``mail_outbox`` (every message submitted over SMTP, to any address)
- calendar: ``calendar_events`` (every VEVENT of the persona's calendar, over CalDAV)
- contacts: ``contacts`` (every vCard of the persona's address book, over CardDAV)
- bank, shop, parcels: ``rows`` (one table of the app's SQLite state, as stored:
  amounts in minor units, times as ISO 8601 world times)
- chat: ``chat_messages`` (every text message of every room the persona is in)
- every service: ``audit`` (its audit records, oldest first)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from rig.errors import RigError
from rig.services.dav import plain


class ServiceInputError(RigError, ValueError):
    """A malformed query, or one the service does not answer."""


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MailMessagesQuery(_Query):
    kind: Literal["mail_messages"] = "mail_messages"
    folders: list[str] | None = None  # None: INBOX, Sent, Archive, Drafts, Trash


class MailOutboxQuery(_Query):
    kind: Literal["mail_outbox"] = "mail_outbox"


class CalendarEventsQuery(_Query):
    kind: Literal["calendar_events"] = "calendar_events"
    timezone: str = "UTC"  # floating times are read in this zone


class ContactsQuery(_Query):
    kind: Literal["contacts"] = "contacts"


class ChatMessagesQuery(_Query):
    kind: Literal["chat_messages"] = "chat_messages"


class RowsQuery(_Query):
    kind: Literal["rows"] = "rows"
    table: str = Field(min_length=1, max_length=64)


class AuditQuery(_Query):
    kind: Literal["audit"] = "audit"


Query = Annotated[
    MailMessagesQuery
    | MailOutboxQuery
    | CalendarEventsQuery
    | ContactsQuery
    | RowsQuery
    | ChatMessagesQuery
    | AuditQuery,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Query)
ANSWERS = {
    "mail": ("mail_messages", "mail_outbox", "audit"),
    "calendar": ("calendar_events", "audit"),
    "contacts": ("contacts", "audit"),
    "bank": ("rows", "audit"),
    "shop": ("rows", "audit"),
    "parcels": ("rows", "audit"),
    "chat": ("chat_messages", "audit"),
}


def parse_query(service: str, query: Any) -> Any:
    try:
        parsed = query if isinstance(query, _Query) else _ADAPTER.validate_python(query)
    except ValidationError as exc:
        raise ServiceInputError(f"{service}: bad query {query!r}: {exc}") from None
    if parsed.kind not in ANSWERS.get(service, ()):
        allowed = ", ".join(ANSWERS.get(service, ()))
        raise ServiceInputError(f"{service} does not answer {parsed.kind!r} (it answers {allowed})")
    return parsed


def read(service: Any, query: Any) -> Any:
    """Answer ``query`` from ``service`` as plain data (dicts, lists, str, bytes, datetimes)."""
    q = parse_query(service.name, query)
    if isinstance(q, MailMessagesQuery):
        folders = tuple(q.folders) if q.folders is not None else None
        found = service.messages(folders) if folders is not None else service.messages()
        return [{**plain(m), "sha256": m.sha256} for m in found]
    if isinstance(q, MailOutboxQuery):
        return [{**plain(m), "sha256": m.sha256} for m in service.outbox()]
    if isinstance(q, CalendarEventsQuery):
        return [plain(e) for e in service.events(tz=q.timezone)]
    if isinstance(q, ContactsQuery):
        return [plain(c) for c in service.contacts()]
    if isinstance(q, RowsQuery):
        return service.rows(q.table)
    if isinstance(q, ChatMessagesQuery):
        return service.messages()
    return service.audit()
