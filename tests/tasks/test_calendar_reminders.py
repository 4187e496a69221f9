"""``calendar.created`` reminders: rows of the phone's Reminders table, VALARMs on CalDAV."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tasks.compile import compile_stream
from tasks.events import EVENT_ADAPTER

ENTRY = {
    "t": "2026-03-15T20:00:00+01:00",
    "kind": "calendar.created",
    "target": "phone",
    "event_id": "dentist",
    "title": "Zahnarzt",
    "start": "2026-03-16T10:00:00+01:00",
    "end": "2026-03-16T10:30:00+01:00",
}


def test_reminders_reach_the_phone_plan_and_the_calendar_service():
    e = EVENT_ADAPTER.validate_python({**ENTRY, "reminders": [30, 10, 30]})
    (event,) = compile_stream({"phone": "android"}, "Europe/Berlin", [e])["phone"].events
    assert event.reminders == [10, 30]
    on_dav = e.model_copy(update={"target": "service:calendar"})
    text = compile_stream({}, "Europe/Berlin", [on_dav], services=("calendar",))
    ics = text.services["calendar"].text
    assert ics.count("BEGIN:VALARM") == 2 and "TRIGGER:-PT10M" in ics and "TRIGGER:-PT30M" in ics
    plain = EVENT_ADAPTER.validate_python(ENTRY)
    ics = (
        compile_stream(
            {},
            "Europe/Berlin",
            [plain.model_copy(update={"target": "service:calendar"})],
            services=("calendar",),
        )
        .services["calendar"]
        .text
    )
    assert "VALARM" not in ics


@pytest.mark.parametrize("bad", [[-1], [40321], [1, 2, 3, 4, 5, 6], ["soon"]])
def test_bad_reminders_are_refused(bad):
    with pytest.raises(ValidationError, match="reminders"):
        EVENT_ADAPTER.validate_python({**ENTRY, "reminders": bad})
