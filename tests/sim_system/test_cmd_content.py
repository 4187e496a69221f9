"""``content``: AOSP's argument parsing, output format, errors, and byte-exact text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.sim_system.content_text import (
    insert_command,
    parse_single_body,
    query_command,
    text_strategy,
)


def test_insert_query_output_format(run) -> None:
    assert (
        run.out(
            "content insert --uri content://sms/inbox --bind address:s:+15550001 "
            "--bind body:s:'hello world' --bind date:l:1700000000000"
        )
        == ""
    )
    out = run.out("content query --uri content://sms --projection _id:address:body:subject:type")
    assert out == ("Row: 0 _id=1, address=+15550001, body=hello world, subject=NULL, type=1\n")
    assert run.out("content query --uri content://sms/sent") == "No result found.\n"
    assert (
        run.out("content query --uri content://sms --projection 'address : date' --where 'type=1'")
        == "Row: 0 address=+15550001, date=1700000000000\n"
    )


def test_bind_types_and_escapes(run, providers) -> None:
    run.out(
        "content insert --uri content://call_log/calls --bind number:s:'a\\:b\\\\c' "
        "--bind duration:i:42 --bind type:i:3 --bind new:b:TRUE --bind is_read:b:no "
        "--bind data_usage:d:2.5 --bind name:n: --bind countryiso:s:"
    )
    row = providers.query(
        "content://call_log/calls",
        ["number", "duration", "type", "new", "is_read", "data_usage", "name", "countryiso"],
    )[0]
    assert row == {
        "number": "a:b\\c",
        "duration": 42,
        "type": 3,
        "new": 1,
        "is_read": 0,
        "data_usage": 2.5,
        "name": None,
        "countryiso": "",
    }
    out = run.out("content query --uri content://call_log/calls --projection data_usage:name")
    assert out == "Row: 0 data_usage=2.5, name=NULL\n"


@pytest.mark.parametrize(
    "args, error",
    [
        ("insert --uri content://sms --bind body:s:a:b", "Binding not well formed: body:s:a:b"),
        ("insert --uri content://sms --bind body", "Binding not well formed: body"),
        ("insert --uri content://sms --bind", "Binding not well formed: null"),
        ("insert --uri content://sms --bind 'x:s:a\\'", "Invalid escaping"),
        ("insert --uri content://sms --bind x:q:1", "Unsupported type: q"),
        ("insert --uri content://sms --bind x:i:abc", 'For input string: "abc"'),
        ("insert --uri content://sms --bind x:i:3000000000", 'For input string: "3000000000"'),
        (
            "insert --uri content://sms",
            "Bindings not specified. Did you specify --bind argument(s)?",
        ),
        (
            "insert --bind x:s:1",
            "Content provider URI not specified. Did you specify --uri argument?",
        ),
        ("query --uri content://sms --where", "No value for argument: --where"),
        ("query --uri content://sms --sort --where", "No value for argument: --sort"),
        ("query --uri content://sms --bogus", "Unsupported argument: --bogus"),
        ("frobnicate", "Unsupported operation: frobnicate"),
        ("", "Unsupported operation: null"),
        ("call --uri content://settings", "Content provider method not specified."),
    ],
)
def test_argument_errors_print_usage_and_error(run, args: str, error: str) -> None:
    status, out, err = run(f"content {args}")
    assert status == 0 and err == ""
    assert out.startswith("usage: adb shell content")
    assert out.endswith(f"\n[ERROR] {error}\n")


def test_provider_errors_go_to_stderr(run) -> None:
    status, out, err = run("content query --uri content://sms/nonsense/1")
    assert (status, out) == (0, "")
    assert err == (
        "Error while accessing provider:sms\n"
        "java.lang.IllegalArgumentException: Unknown URI content://sms/nonsense/1\n"
    )
    err = run("content query --uri content://sms --projection nope")[2]
    assert "android.database.sqlite.SQLiteException: no such column: nope" in err
    assert run("content query --uri content://nobody/x")[2].startswith(
        "Error while accessing provider:nobody\njava.lang.IllegalStateException: "
        "Could not find provider: nobody"
    )


def test_update_delete_where_sort(run, providers) -> None:
    for n, body in enumerate(["b", "a", "c"]):
        providers.insert("content://sms/inbox", {"address": str(n), "body": body, "date": n})
    run.out("content update --uri content://sms --bind read:i:1 --where \"body='a'\"")
    assert providers.query("content://sms", ["read"], "body='a'") == [{"read": 1}]
    out = run.out("content query --uri content://sms --projection body --sort 'body DESC'")
    assert out == "Row: 0 body=c\nRow: 1 body=b\nRow: 2 body=a\n"
    run.out("content delete --uri content://sms --where \"body != 'c'\"")
    assert run.out("content query --uri content://sms --projection body") == "Row: 0 body=c\n"
    run.out("content delete --uri content://sms/3")
    assert run.out("content query --uri content://sms") == "No result found.\n"


def test_contacts_and_calendar_and_settings_uris(run) -> None:
    run.out(
        "content insert --uri content://com.android.contacts/raw_contacts "
        "--bind account_type:n: --bind account_name:n:"
    )
    run.out(
        "content insert --uri content://com.android.contacts/data --bind raw_contact_id:i:1 "
        "--bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Grace Hopper'"
    )
    run.out(
        "content insert --uri content://com.android.contacts/data --bind raw_contact_id:i:1 "
        "--bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+1-555-0100 "
        "--bind data2:i:2"
    )
    assert (
        run.out(
            "content query --uri content://com.android.contacts/phone_lookup/15550100 "
            "--projection display_name:number"
        )
        == "Row: 0 display_name=Grace Hopper, number=+1-555-0100\n"
    )
    run.out(
        "content insert --uri content://com.android.calendar/events --bind calendar_id:i:1 "
        "--bind title:s:Standup --bind dtstart:l:1767258000000 --bind dtend:l:1767259800000 "
        "--bind eventTimezone:s:UTC"
    )
    assert (
        run.out(
            "content query --uri content://com.android.calendar/events --projection title:allDay"
        )
        == "Row: 0 title=Standup, allDay=0\n"
    )
    run.out(
        "content insert --uri content://settings/secure --bind name:s:new_setting "
        "--bind value:s:new_value"
    )
    assert run.out("settings get secure new_setting") == "new_value\n"
    assert (
        run.out("content call --uri content://settings --method GET_secure --arg new_setting")
        == "Result: Bundle[{value=new_value}]\n"
    )
    assert run.out("content gettype --uri content://sms") == "Result: vnd.android-dir/sms\n"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=text_strategy)
def test_any_text_survives_insert_and_query(run, providers, body: str) -> None:
    providers.delete("content://sms")
    status, out, err = run(insert_command("+1 (555) 'x'", body))
    assert (status, out, err) == (0, "", "")
    row_id = providers.query("content://sms", ["_id"])[0]["_id"]
    status, out, err = run(query_command(row_id))
    assert status == 0 and err == ""
    assert parse_single_body(out).encode("utf-8") == body.encode("utf-8")
    assert providers.query("content://sms", ["address"])[0]["address"] == "+1 (555) 'x'"
