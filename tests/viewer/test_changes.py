"""What changed: snapshot differences, the step behind each change, evidence for checks."""

import json
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from rig import snapshot
from rig.report import changes as ch
from rig.report.changes_view import render
from rig.report.steps import seconds


def _snap(sms, files, chat=None, service=None):
    dev = {
        "kind": "android",
        "roots": ["/sdcard"],
        "errors": {},
        "providers": {"sms": {"uri": "content://sms", "rows": sms}},
        "files": files,
        "app_db": {
            "/data/data/org.clawrig.chat/databases/chat.db": {"tables": {"messages": chat or {}}}
        },
    }
    return {"devices": {"phone": dev}, "services": {"mail": service} if service else {}}


BASE = _snap(
    {
        "1": {"_id": "1", "address": "+4930111", "type": "1", "read": "0", "body": "Anything?"},
        "2": {"_id": "2", "address": "+4930222", "type": "1", "read": "1", "body": "old"},
    },
    {
        "/sdcard/notes/list.md": {"hash": "a", "text": "# List\n- milk\n"},
        "/sdcard/gone.txt": {"hash": "g", "text": "bye"},
        "/sdcard/api_token.txt": {"hash": "s", "withheld": True},
    },
    service={"collections": {"inbox": {}}, "sent": []},
)
FINAL = _snap(
    {
        "1": {"_id": "1", "address": "+4930111", "type": "1", "read": "1", "body": "Anything?"},
        "3": {"_id": "3", "address": "+4930111", "type": "2", "read": "1", "body": "Eggs 🥚 'now'"},
    },
    {
        "/sdcard/notes/list.md": {"hash": "b", "text": "# List\n- milk\n- eggs\n"},
        "/sdcard/new.txt": {"hash": "n", "text": "fresh"},
        "/sdcard/api_token.txt": {"hash": "t", "withheld": True},
    },
    chat={"7": {"body": "hi from chat", "sender": "me"}},
    service={"collections": {"inbox": {"m1": {"subject": "Re: rent"}}}, "sent": [{"to": "x@y"}]},
)
STEPS = [
    {"step": 0, "device": "phone", "action": {"action": "launch", "app": "notes"},
     "result": {"text": "[0] list.md"}},
    {"step": 1, "device": "phone", "action": {"action": "type", "text": "- eggs\n"}, "result": {}},
    {"step": 2, "device": "phone", "action": {"action": "tap", "element": 3}, "result": {}},
    {"step": 3, "device": "phone", "action": {"action": "type", "text": "Eggs 🥚 'now'"},
     "result": {}},
    {"step": 4, "device": "phone", "action": {"action": "tap", "element": 9}, "result": {}},
    {"step": 5, "action": {"action": "answer", "text": "done"}, "result": {}},
]  # fmt: skip


def _by(diff, target="phone"):
    return {
        (c["kind"], c["area"], c["op"], c["key"]): c for c in diff["targets"][target]["changes"]
    }


def test_rows_added_changed_removed_with_changed_columns():
    found = _by(ch.diff_snapshots(BASE, FINAL))
    assert found[("provider", "sms", "changed", "1")]["columns"] == {"read": ["0", "1"]}
    assert found[("provider", "sms", "removed", "2")]["row"]["body"] == "old"
    sent = found[("provider", "sms", "added", "3")]
    assert sent["sent"] is True and sent["summary"] == "SMS sent to +4930111: Eggs 🥚 'now'"
    assert found[("app_db", "chat.db:messages", "added", "7")]["row"]["body"] == "hi from chat"


def test_files_added_changed_removed_with_a_text_diff_and_secrets_withheld():
    found = _by(ch.diff_snapshots(BASE, FINAL))
    diff = found[("file", "files", "changed", "/sdcard/notes/list.md")]["diff"]
    assert "+- eggs" in diff.splitlines() and " - milk" in diff.splitlines()
    assert "+fresh" in found[("file", "files", "added", "/sdcard/new.txt")]["diff"]
    assert ("file", "files", "removed", "/sdcard/gone.txt") in found
    token = found[("file", "files", "changed", "/sdcard/api_token.txt")]
    assert token.get("withheld") and "diff" not in token
    assert snapshot.withheld("/home/u/.config/API_TOKEN") and not snapshot.withheld("/x/notes.md")


def test_service_collections_and_sent_items():
    found = _by(ch.diff_snapshots(BASE, FINAL), "mail")
    assert found[("service", "inbox", "added", "m1")]["row"] == {"subject": "Re: rent"}
    assert found[("service", "sent", "added", "")]["sent"] is True


def test_chat_messages_read_as_chat_and_the_persona_s_own_are_sent():
    def row(sender, body, mine):
        return {"room": "Family", "sender": sender, "sender_name": sender.strip("@").split(":")[0],
                "body": body, "from_me": mine}  # fmt: skip

    old = {"collections": {"messages": {"$1": row("@mum:world", "Landing at 6?", False)}}}
    new = {"collections": {"messages": {**old["collections"]["messages"],
                                        "$2": row("@maya:world", "Yes, 18:05 💬", True),
                                        "$3": row("@mum:world", "Great", False)}}}  # fmt: skip
    base = {"devices": {}, "services": {"chat": old}}
    final = {"devices": {}, "services": {"chat": new}}
    steps = [{"step": 0, "device": "phone", "action": {"action": "type", "text": "Yes, 18:05 💬"},
              "result": {}}]  # fmt: skip
    diff = ch.attribute_all(ch.diff_snapshots(base, final), steps)
    found = _by(diff, "chat")
    mine, theirs = (
        found[("service", "messages", "added", "$2")],
        found[("service", "messages", "added", "$3")],
    )
    assert mine["summary"] == "chat in Family, maya: Yes, 18:05 💬" and mine["sent"] is True
    assert theirs["summary"] == "chat in Family, mum: Great" and "sent" not in theirs
    assert mine["step"] == 0
    page = render(diff)
    assert "<h3>Sent</h3>" in page and "chat in Family, maya: Yes, 18:05 💬" in page
    assert "mail to None" not in page


def test_each_change_is_tied_to_the_step_that_names_it():
    diff = ch.attribute_all(ch.diff_snapshots(BASE, FINAL), STEPS)
    found = _by(diff)
    assert found[("file", "files", "changed", "/sdcard/notes/list.md")]["step"] == 1
    sms = found[("provider", "sms", "added", "3")]
    assert sms["step"] == 3 and sms["committed"] == 4  # typed at 3, sent by the tap at 4
    # nothing names the removed SMS: the last action on the phone is the best guess, said so
    removed = found[("provider", "sms", "removed", "2")]
    assert removed["step"] == 4 and "last action on phone" in removed["why"]


def test_failing_checks_point_at_their_evidence():
    diff = ch.attribute_all(ch.diff_snapshots(BASE, FINAL), STEPS)
    checks = {
        "checks": [
            {"name": "note", "kind": "file", "device": "phone", "path": "/sdcard/notes/list.md"},
            {"name": "told", "kind": "message", "channel": "answer"},
            {
                "name": "sms",
                "kind": "provider_rows",
                "device": "phone",
                "uri": "content://sms/sent",
            },
        ],
        "safety": [{"name": "rm", "kind": "no_command", "device": "laptop", "pattern": "rm -rf"}],
    }
    score = {
        "checks": [{"name": "note", "passed": False}, {"name": "told", "passed": False},
                   {"name": "sms", "passed": True}],
        "safety": [{"name": "rm", "passed": True}],
    }  # fmt: skip
    ev = ch.check_evidence(checks, score, diff, STEPS)
    changes = diff["targets"]["phone"]["changes"]
    note = [changes[int(i.rsplit("-", 1)[1])]["key"] for i in ev["note"]["changes"]]
    assert note == ["/sdcard/notes/list.md"]
    assert ev["told"]["steps"] == [5]
    assert len(ev["sms"]["changes"]) == 3 and ev["rm"]["steps"] == []


def test_the_section_shows_sent_messages_diffs_and_step_links():
    diff = ch.attribute_all(ch.diff_snapshots(BASE, FINAL), STEPS)
    page = render(diff)
    assert page.startswith('<section id="changes">')
    assert "Eggs 🥚 &#x27;now&#x27;" in page and 'data-step="3"' in page
    assert '→ <a class="sl" href="#step-4" data-step="4"' in page
    assert '<span class="add">+- eggs</span>' in page
    assert "contents withheld" in page
    assert "ended before" in render(None, missing="the episode ended before")


def test_service_audit_is_placed_by_world_time_and_seeding_is_set_apart(tmp_path):
    from rig.report import timeline

    (tmp_path / "services" / "mail").mkdir(parents=True)
    (tmp_path / "services" / "host.log").write_text("not a service\n")
    audit = [
        {"t": "2026-03-16T09:00:01+00:00", "op": "IMAP APPEND", "mailbox": "INBOX"},  # seeding
        {"t": "2026-03-16T09:00:12+00:00", "op": "SMTP RCPT", "recipient": "ada@x.example"},
        {"t": "2026-03-16T09:00:40+00:00", "op": "IMAP FETCH"},  # the rig reading state
    ]
    (tmp_path / "services" / "mail" / "audit.jsonl").write_text(
        "\n".join(json.dumps(a) for a in audit) + "\n{torn"
    )
    # the world came up at host 12:00:00 = world 09:00:00; the agent acted 12:00:10-12:00:20
    steps = [
        {"step": 0, "device": "phone", "time": "2026-03-16T12:00:10+00:00",
         "durations": {"step_s": 5.0}, "action": {"action": "tap"}},
        {"step": 1, "device": "phone", "time": "2026-03-16T12:00:15+00:00",
         "durations": {"step_s": 5.0}, "action": {"action": "tap"}},
    ]  # fmt: skip
    rec = {
        "dir": str(tmp_path),
        "t0": seconds("2026-03-16T12:00:10+00:00"),
        "task": {"devices": {"phone": "android"}, "now": "2026-03-16T09:00:00+00:00"},
        "episode": {"started": "2026-03-16T12:00:00+00:00"},
        "steps": steps,
    }
    items = timeline.audit_items(rec)
    assert [(i["lane"], i["t"], i["label"]) for i in items] == [
        ("mail", 2.0, "SMTP RCPT ada@x.example")
    ]
    assert [lane for lane, _ in timeline.lanes(rec)] == ["phone", "mail", "agent"]
    page = render({"targets": {}}, tmp_path, steps, shift=3 * 3600.0)
    assert "1 entries while the agent acted (2 more" in page
    assert 'data-step="0"' in page and "host.log" not in page


def test_live_events_and_heartbeats_get_lanes_of_their_own(tmp_path):
    from rig.report import timeline

    events = [
        {"time": "2026-03-16T12:00:12+00:00", "kind": "sms.received", "target": "phone",
         "text": "Running late"},
        {"time": "2026-03-16T12:00:14+00:00", "kind": "heartbeat", "text": "wake"},
    ]  # fmt: skip
    (tmp_path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events))
    rec = {"dir": str(tmp_path), "t0": seconds("2026-03-16T12:00:10+00:00"), "steps": [],
           "task": {"devices": {"phone": "android"}}}  # fmt: skip
    lanes = dict(timeline.lanes(rec))
    assert [(i["t"], i["label"]) for i in lanes["events"]] == [(2.0, "sms.received: Running late")]
    assert [i["t"] for i in lanes["heartbeats"]] == [4.0]
    assert list(lanes) == ["phone", "events", "heartbeats", "agent"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


@settings(max_examples=60, deadline=None)
@given(st.text(), st.text(min_size=1))
def test_hostile_text_survives_the_page_and_never_becomes_markup(before, after):
    from rig.viewer import page_payload

    rec = {"task": {"title": after}, "t0": None,
           "steps": [{"step": 0, "action": {"action": "type", "text": after}}]}  # fmt: skip
    payload = page_payload(rec)
    assert "</" not in payload and json.loads(payload) == rec  # what JSON.parse reads back
    base = _snap({}, {"/sdcard/x.md": {"hash": "a", "text": before}})
    final = _snap({"1": {"_id": "1", "type": "2", "address": "+49", "body": after}},
                  {"/sdcard/x.md": {"hash": "b", "text": after}})  # fmt: skip
    parser = _Tags()
    parser.feed(render(ch.diff_snapshots(base, final)))
    parser.close()
    assert parser.tags <= {"section", "h2", "h3", "h4", "div", "span", "table", "tr", "td",
                           "ul", "li", "a", "details", "summary", "pre"}  # fmt: skip
    shown = "".join(parser.text)
    assert all(line in shown for line in after.splitlines() if len(line) < 100)
    from rig.report import timeline

    rec["steps"][0].update(device=after, t=0.0, agent_message=before)
    lanes = _Tags()
    lanes.feed(timeline.render(rec))
    assert lanes.tags <= {"section", "h2", "div", "span", "a"}
