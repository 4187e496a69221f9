"""Hostile text through the phone's Email app and the real servers, both directions."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rig.service_clients import connect_devices
from tests.service_clients import ui

pytestmark = pytest.mark.integration

SPECIALS = [*"'\"$`\\%", "😀", "日本語", "中文", "👩‍💻", "$(id)", "`id`", "%s", "한국어", "é"]


def hostile(newlines: bool) -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.sampled_from(SPECIALS + (["\n"] if newlines else [])),
        st.text(
            st.characters(
                max_codepoint=0x2FFF, whitelist_categories=("L", "M", "N", "P", "S", "Zs")
            ),
            max_size=6,
        ),
    )
    # Printed text has no edge blanks (a header is unfolded, a shown body trimmed).
    return st.lists(pieces, min_size=1, max_size=8).map("".join).map(str.strip).filter(bool)


@settings(
    max_examples=4,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(subject=hostile(False), body=hostile(True))
def test_hostile_mail_is_shown_exactly(stack, world, phone, subject, body):
    msg = EmailMessage()
    msg["From"] = "jonas.fischer@mailbox.example"
    msg["To"] = "maya.fischer@posteo.example"
    msg["Subject"] = subject
    msg.set_content(body)
    with stack["mail"].smtp(stack.accounts[1]) as smtp:
        smtp.send_message(msg)
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    rows = [m for m in stack["mail"].messages(("INBOX",)) if m.subject == subject]
    assert rows, "the server did not keep the subject"
    phone.key("back")  # leave any message open from an earlier example
    phone.launch("com.android.email")
    ui.tap(phone, rid="message_row")  # the newest message is first
    assert ui.find(phone, rid="subject")[0]["text"] == subject
    assert ui.find(phone, rid="body")[0]["text"] == body


@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(subject=hostile(False), body=hostile(False))
def test_hostile_mail_typed_on_the_phone_is_sent_exactly(stack, world, phone, subject, body):
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    ui.tap(phone, desc="Compose")
    ui.tap(phone, rid="to")
    phone.type_text("jonas.fischer@mailbox.example")
    ui.tap(phone, rid="subject")
    phone.type_text(subject)
    ui.tap(phone, rid="body")
    phone.type_text(body)
    ui.tap(phone, desc="Send")
    sent = [m for m in stack["mail"].outbox() if m.subject == subject]
    assert sent, [m.subject for m in stack["mail"].outbox()]
    assert sent[-1].body.replace("\r\n", "\n").rstrip("\n") == body  # as sent: CRLF lines
