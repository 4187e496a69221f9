"""The laptop on the world's bank and chat with curl and jq through guestfwd; the bank's
one-time code arrives on the virtual phone (a real cross-device flow)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.service_clients import connect_devices
from rig.services.stack import ServiceStack, sms_gateway
from rig.world import World
from scoring import state
from tests.console_phone import console_phone
from tests.services.conftest import NOW, accounts
from tests.services.test_web import STREAM, seeded

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def world(fresh_vm, tmp_path: Path) -> Iterator[World]:
    out = Path(tempfile.mkdtemp(prefix="clawrig-test-web-"))
    os.chmod(out, 0o755)
    try:
        with console_phone(tmp_path) as phone:
            w = World(now=NOW, timezone="Europe/Berlin")
            w.add(phone)
            w.devices["laptop"] = fresh_vm
            options = {"bank": {"sms": sms_gateway(w)}}
            with ServiceStack(
                ["bank"],
                out / "services",
                NOW,
                accounts(),
                options=options,
                clients=["phone", "laptop"],
            ) as s:
                seeded(s, [e for e in STREAM if e["kind"] == "bank.transaction"])
                w.services = dict(s.services)
                yield w
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _curl(laptop, args: str) -> dict | list:
    r = laptop.exec(f"curl -sn --max-time 30 {args}", timeout=60)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_a_transfer_made_with_curl_on_the_laptop_needs_the_code_from_the_phone(world):
    laptop, phone = world["laptop"], world["phone"]
    done = connect_devices(world, "Maya Fischer")
    assert done["laptop"]["web"] == [".netrc", "docs/bank.md"]
    assert laptop.exec("stat -c %a ~/.netrc").stdout.strip() == "600"
    doc = laptop.exec("cat ~/docs/bank.md").stdout
    assert "http://bank.clawrig.world:8081" in doc and "curl -sn" in doc
    base = "http://bank.clawrig.world:8081"
    accounts_ = _curl(laptop, f"{base}/accounts")
    assert accounts_[0]["balance"] == 3064.80
    before = max(
        (int(r["_id"]) for r in state.provider_rows(phone, "content://sms/inbox", ["body"])),
        default=0,
    )
    body = json.dumps(
        {"from_account": accounts_[0]["id"], "amount": 120.5, "reference": "Rechnung 18",
         "payee": {"name": "Klempner Neu", "iban": "DE02120300000000202051"}}
    )  # fmt: skip
    headers = "-H 'Content-Type: application/json' -H 'Idempotency-Key: plumber-18'"
    pending = _curl(laptop, f"-X POST {base}/transfers {headers} -d {shlex.quote(body)}")
    assert pending["status"] == "code_required"
    deadline, code = time.monotonic() + 20, None
    while code is None and time.monotonic() < deadline:
        rows = state.provider_rows(phone, "content://sms/inbox", ["body"])
        fresh = [r["body"] for r in rows if int(r["_id"]) > before]
        code = re.search(r"\b(\d{6})\b", fresh[-1]).group(1) if fresh else None
        time.sleep(0.2)
    assert code, "the code never reached the phone"
    confirm = json.dumps({"code": code})
    done_ = _curl(
        laptop,
        f"-X POST {base}/transfers/{pending['id']}/confirm "
        f"-H 'Content-Type: application/json' -d {shlex.quote(confirm)}",
    )
    assert done_["status"] == "done"
    assert _curl(laptop, f"{base}/accounts")[0]["balance"] == 2944.30
    posts = [r for r in world.services["bank"].audit() if r["op"] == "HTTP POST"]
    assert [r["path"] for r in posts] == ["/transfers", f"/transfers/{pending['id']}/confirm"]
    assert all(r["user"] == "maya" for r in posts) and posts[1]["body"]["code"] == "***"
    assert {r["client"] for r in posts} == {"laptop"}  # the laptop's own port, through guestfwd
