"""Contacts and calendar entries folded to their last version, one rule wherever they are seeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tasks import events as ev


class HoldsEdits(Protocol):
    """A fold's last known version of each contact and calendar entry, by id."""

    contacts: dict[str, ev.ContactAdded]
    events: dict[str, ev.CalendarCreated]


def _contact_added(f: HoldsEdits, e: ev.ContactAdded) -> None:
    f.contacts[e.contact_id] = e


def _contact_edited(f: HoldsEdits, e: ev.ContactEdited) -> None:
    known = f.contacts.get(e.contact_id)
    if known is None:
        raise ValueError(f"event {e.id}: contact.edited of unknown contact {e.contact_id!r}")
    changes = {
        k: getattr(e, k)
        for k in ("name", "phones", "emails", "org", "note")
        if getattr(e, k) is not None
    }
    f.contacts[e.contact_id] = known.model_copy(update=changes)


def _calendar_created(f: HoldsEdits, e: ev.CalendarCreated) -> None:
    f.events[e.event_id] = e


def _calendar_moved(f: HoldsEdits, e: ev.CalendarMoved) -> None:
    known = f.events.get(e.event_id)
    if known is None:
        raise ValueError(f"event {e.id}: calendar.moved of unknown event {e.event_id!r}")
    f.events[e.event_id] = known.model_copy(update={"start": e.start, "end": e.end})


def _calendar_cancelled(f: HoldsEdits, e: ev.CalendarCancelled) -> None:
    if f.events.pop(e.event_id, None) is None:
        raise ValueError(f"event {e.id}: calendar.cancelled of unknown event {e.event_id!r}")


EDIT_HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    ev.ContactAdded: _contact_added,
    ev.ContactEdited: _contact_edited,
    ev.CalendarCreated: _calendar_created,
    ev.CalendarMoved: _calendar_moved,
    ev.CalendarCancelled: _calendar_cancelled,
}
