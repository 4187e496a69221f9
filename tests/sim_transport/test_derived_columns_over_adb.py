"""The virtual phone's providers keep Android's derived columns on update, through
``content update`` over the real adb server (issue 12, item 8)."""

from __future__ import annotations

import pytest

from emulator.adb import AdbServer
from emulator.backends import SimBackend
from rig.config import RigConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CONTACTS = "content://com.android.contacts"
NAME = "vnd.android.cursor.item/name"
PHONE = "vnd.android.cursor.item/phone_v2"


@pytest.fixture(scope="module")
def phone(tmp_path_factory):
    server = AdbServer.private()
    backend = SimBackend(RigConfig().backend_config("android"), server=server)
    device = backend.acquire("phone", tmp_path_factory.mktemp("phone"))
    try:
        yield device
    finally:
        backend.release(device)
        server.kill()


def sh(phone, command: str) -> str:
    r = phone.shell(command)
    assert r.exit_code == 0, (command, r.stdout, r.stderr)
    return r.stdout


def row(phone, uri: str, projection: str, where: str) -> dict[str, str]:
    out = sh(phone, f'content query --uri {uri} --projection {projection} --where "{where}"')
    lines = [ln for ln in out.splitlines() if ln.startswith("Row: ")]
    assert len(lines) == 1, out
    fields = {}
    for part in lines[0].split(" ", 2)[2].split(", "):
        key, _, value = part.partition("=")
        fields[key] = value
    return fields


@pytest.fixture
def contact(phone):
    """A contact with a structured name and a number; returns its raw contact id."""
    sh(phone, f"content insert --uri {CONTACTS}/raw_contacts --bind account_type:s:local")
    ids = sh(phone, f"content query --uri {CONTACTS}/raw_contacts --projection _id")
    rid = max(int(ln.rsplit("_id=", 1)[1]) for ln in ids.splitlines() if "_id=" in ln)
    sh(phone, f"content insert --uri {CONTACTS}/data --bind raw_contact_id:i:{rid} "
              f"--bind mimetype:s:{NAME} --bind data2:s:Ada --bind data3:s:Lovelace")  # fmt: skip
    sh(phone, f"content insert --uri {CONTACTS}/data --bind raw_contact_id:i:{rid} "
              f"--bind mimetype:s:{PHONE} --bind data1:s:'+44 20 7946 0018'")  # fmt: skip
    return rid


def test_updating_a_number_recomputes_its_normalized_form(phone, contact) -> None:
    where = f"raw_contact_id={contact} AND mimetype='{PHONE}'"
    assert row(phone, f"{CONTACTS}/data", "data4", where)["data4"] == "+442079460018"
    sh(phone, f"content update --uri {CONTACTS}/data --bind data1:s:'+1 (202) 555-0147' "
              f'--where "{where}"')  # fmt: skip
    assert row(phone, f"{CONTACTS}/data", "data1:data4", where) == {
        "data1": "+1 (202) 555-0147",
        "data4": "+12025550147",
    }
    # The phone-lookup view follows the normalized number.
    lookup = sh(phone, f"content query --uri {CONTACTS}/phone_lookup/+12025550147")
    assert "Ada Lovelace" in lookup, lookup


def test_both_given_keeps_the_given_normalized_number(phone, contact) -> None:
    where = f"raw_contact_id={contact} AND mimetype='{PHONE}'"
    sh(phone, f"content update --uri {CONTACTS}/data --bind data1:s:'555 0100' "
              f'--bind data4:s:+15550100 --where "{where}"')  # fmt: skip
    assert row(phone, f"{CONTACTS}/data", "data4", where)["data4"] == "+15550100"


def test_a_new_display_name_splits_into_parts_and_renames_the_contact(phone, contact) -> None:
    where = f"raw_contact_id={contact} AND mimetype='{NAME}'"
    sh(phone, f"content update --uri {CONTACTS}/data --bind data1:s:'Grace Brewster Hopper' "
              f'--where "{where}"')  # fmt: skip
    assert row(phone, f"{CONTACTS}/data", "data2:data3", where) == {
        "data2": "Grace Brewster",
        "data3": "Hopper",
    }
    raw = row(phone, f"{CONTACTS}/raw_contacts", "display_name", f"_id={contact}")
    assert raw["display_name"] == "Grace Brewster Hopper"


def test_new_name_parts_rebuild_the_display_name(phone, contact) -> None:
    where = f"raw_contact_id={contact} AND mimetype='{NAME}'"
    sh(phone, f'content update --uri {CONTACTS}/data --bind data2:s:Augusta --where "{where}"')
    assert row(phone, f"{CONTACTS}/data", "data1", where)["data1"] == "Augusta Lovelace"
    raw = row(phone, f"{CONTACTS}/raw_contacts", "display_name", f"_id={contact}")
    assert raw["display_name"] == "Augusta Lovelace"


def test_sms_moved_to_another_address_changes_thread_and_thread_dates(phone) -> None:
    sh(phone, "content insert --uri content://sms/inbox --bind address:s:+15550111 "
              "--bind body:s:first --bind date:l:1000")  # fmt: skip
    sh(phone, "content insert --uri content://sms/inbox --bind address:s:+15550222 "
              "--bind body:s:other --bind date:l:2000")  # fmt: skip
    moved = row(phone, "content://sms", "_id:thread_id", "body='first'")
    other = row(phone, "content://sms", "thread_id", "body='other'")["thread_id"]
    sh(phone, "content update --uri content://sms --bind address:s:'+1 555 0222' "
              "--bind date:l:3000 --where \"body='first'\"")  # fmt: skip
    assert row(phone, "content://sms", "thread_id", "body='first'")["thread_id"] == other
    thread = sh(phone, "content query --uri content://mms-sms/conversations")
    assert "date=3000" in thread and "snippet=first" in thread, thread
    assert moved["thread_id"] != other


def test_call_number_update_recomputes_normalized_number(phone) -> None:
    sh(phone, "content insert --uri content://call_log/calls --bind number:s:'020 7946 0018' "
              "--bind type:i:1")  # fmt: skip
    sh(phone, "content update --uri content://call_log/calls --bind number:s:'+1 202-555-0199' "
              "--where \"number='020 7946 0018'\"")  # fmt: skip
    got = row(phone, "content://call_log/calls", "normalized_number", "number='+1 202-555-0199'")
    assert got["normalized_number"] == "+12025550199"
