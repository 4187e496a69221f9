"""The Android seed records as pydantic models: construction, JSON for the record, errors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from emulator.errors import AndroidInputError
from emulator.seeding import AppRows, Contact, FileItem, SeedPlan, Sms, plan_digest

JPEG = b"\xff\xd8\xff\xe0binary"


def test_positional_and_keyword_construction_agree() -> None:
    t = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    assert Sms("+1555", "hi", t) == Sms(address="+1555", body="hi", date=t)
    assert AppRows("p", "/db", "t", [], "CREATE").ddl == "CREATE"
    assert AppRows(package="p", db="/db", table="t", rows=[], schema="CREATE").ddl == "CREATE"
    with pytest.raises(TypeError, match="given twice"):
        Contact("Ana", name="Ana")


def test_a_plan_with_binary_files_serialises_for_the_record() -> None:
    plan = SeedPlan(files=[FileItem("/sdcard/DCIM/a.jpg", JPEG)], contacts=[Contact("Ana")])
    data = json.loads(json.dumps(plan.model_dump(mode="json")))
    assert base64.urlsafe_b64decode(data["files"][0]["data"]) == JPEG  # pydantic: base64url
    assert len(plan_digest(plan)) == 64


def test_from_dict_names_the_record_and_field() -> None:
    with pytest.raises(AndroidInputError, match=r"seed plan: sms\[0\]\.body: Field required"):
        SeedPlan.from_dict({"sms": [{"address": "+1"}]})
    with pytest.raises(AndroidInputError, match="unknown sections"):
        SeedPlan.from_dict({"emails": []})
    plan = SeedPlan.from_dict({"files": [{"path": "/sdcard/a.txt", "data": "héllo ✓"}]})
    assert plan.files[0].data == "héllo ✓".encode()
