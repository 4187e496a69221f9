"""``file.placed`` seeded into a virtual phone and a real VM and read back: bytes, mtime,
and on Linux the mode, at paths outside the folders other events reach."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tasks.compile import compile_stream
from tasks.folder import load_task
from tests.compile.streams import HOSTILE

FIXTURE = Path(__file__).parents[1] / "tasks" / "fixtures" / "place-files"
PDF = (FIXTURE / "files" / "invoice.pdf").read_bytes()
TZ = "Europe/Berlin"


def _placed(tag: str, target: str, root: str) -> list:
    loaded = load_task(FIXTURE)
    out = []
    for e in loaded.plot:
        if e.target == target:
            path = e.path.replace(root, f"{root}t{tag}/", 1)
            out.append(e.model_copy(update={"path": path}))
    out.append(
        out[0].model_copy(
            update={
                "path": f"{root}t{tag}/{HOSTILE[:20]}.txt",
                "text": HOSTILE,
                "source": None,
                "data": None,
            }
        )
    )
    return out


@pytest.mark.integration
def test_placed_files_round_trip_on_the_phone(phone) -> None:
    tag = uuid.uuid4().hex[:8]
    events = _placed(tag, "phone", "/sdcard/")
    plan = compile_stream({"phone": "android"}, TZ, events)["phone"]
    phone.seed(plan)  # verifies md5, size and mtime of every file itself
    for e in events:
        assert phone.read_state({"kind": "file", "path": e.path}) == e.content()
    pdf = f"/sdcard/t{tag}/Documents/Invoices/invoice.pdf"
    out = phone.shell(f"stat -c %Y '{pdf}'")
    assert int(out.stdout.strip()) == int(
        datetime.fromisoformat("2026-03-15T09:05+01:00").timestamp()
    )


@pytest.mark.integration
@pytest.mark.vm
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_placed_files_round_trip_on_the_laptop(laptop) -> None:
    tag = uuid.uuid4().hex[:8]
    events = _placed(tag, "laptop", "~/")
    plan = compile_stream({"laptop": "linux"}, TZ, events)["laptop"]
    laptop.seed(plan)
    for e in events:
        assert laptop.read_state({"kind": "file", "path": e.path}) == e.content()
    script = f"/home/user/t{tag}/bin/backup.sh"
    pdf = f"/home/user/t{tag}/Documents/Invoices/März invoice.pdf"
    r = laptop.shell(f"stat -c '%a %U %Y' '{script}' '{pdf}'")
    lines = r.stdout.split()
    when = int(datetime.fromisoformat("2026-02-14T12:00+01:00").timestamp())
    assert lines[:3] == ["750", "user", str(when)]
    assert lines[3:5] == ["600", "user"]
    assert laptop.shell(f"sh '{script}'").stdout.strip() == "backup"
