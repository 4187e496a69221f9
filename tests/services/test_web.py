"""The bank, shop and parcels as real FastAPI apps under uvicorn: seeding, API, audit, isolation."""

from __future__ import annotations

import base64
import json
import os
import signal
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.service_clients import web_access
from rig.services.base import Account, ServiceDown, json_round_trip
from rig.services.stack import ServiceStack
from tasks.compile import compile_stream
from tests.compile.streams import HOSTILE, at, events
from tests.services.conftest import NOW, accounts

pytestmark = pytest.mark.integration
TZ = "Europe/Berlin"
WEB = ["bank", "shop", "parcels"]

STREAM = [
    {"t": at(0), "kind": "bank.transaction", "target": "service:bank", "account": "Girokonto",
     "amount": "2400.00", "currency": "EUR", "counterparty": "Nordhaus GmbH",
     "reference": "salary", "balance": "3150.00"},
    {"t": at(1), "kind": "bank.transaction", "target": "service:bank", "account": "Girokonto",
     "amount": "-85.20", "currency": "EUR", "counterparty": "Klempner Albrecht",
     "reference": "Rechnung 17", "balance": "3064.80"},
    {"t": at(2), "kind": "price.alert", "target": "service:shop", "item": "Espresso machine",
     "shop": "Kaffeehaus", "price": "249.00", "currency": "EUR",
     "url": "https://kaffeehaus.example/p/espresso"},
    {"t": at(3), "kind": "price.alert", "target": "service:shop", "item": "Espresso machine",
     "shop": "Kaffeehaus", "price": "219.00", "currency": "EUR",
     "url": "https://kaffeehaus.example/p/espresso"},
    {"t": at(4), "kind": "shop.order", "target": "service:shop", "order_id": "123-4567890",
     "shop": "Nordhaus", "lines": [{"name": "Batteries AA (8)", "qty": 2, "price": "9.97"}],
     "currency": "EUR", "status": "delivered"},
    {"t": at(5), "kind": "parcel.update", "target": "service:parcels", "tracking": "4711",
     "carrier": "DHL", "status": "announced", "sender": "Nordhaus",
     "description": "1 x Espresso machine", "eta": "2026-03-17T12:00:00+01:00"},
    {"t": at(6), "kind": "parcel.update", "target": "service:parcels", "tracking": "4711",
     "carrier": "DHL", "status": "in_transit", "location": "Hub Leipzig",
     "text": "In transit"},
]  # fmt: skip


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def seeded(stack: ServiceStack, stream: list[dict] = STREAM) -> dict:
    plans = compile_stream({}, TZ, events(stream), services=tuple(stack.names), now=NOW)
    assert plans.skipped == []
    return {name: stack[name].seed(plan) for name, plan in plans.services.items()}


@pytest.fixture
def web(out_dir: Path) -> Iterator[ServiceStack]:
    with ServiceStack(WEB, out_dir, NOW, accounts()) as s:
        yield s


def test_seeded_state_reads_back_over_the_api(web):
    digests = seeded(web)
    assert digests["bank"]["round_trips"] == 2 and digests["bank"]["rows"]["transactions"] == 2
    bank, shop, parcels = web["bank"], web["shop"], web["parcels"]
    status, accs = bank.request("GET", "/accounts")
    assert status == 200 and accs[0]["name"] == "Girokonto" and accs[0]["balance"] == 3064.80
    status, txns = bank.request("GET", f"/accounts/{accs[0]['id']}/transactions?q=klempner")
    assert [(t["amount"], _t(t["booked_at"])) for t in txns] == [(-85.2, _t(at(1)))]
    payees = bank.request("GET", "/payees")[1]
    assert [(p["name"], p["verified"]) for p in payees] == [("Klempner Albrecht", True)]

    products = shop.request("GET", "/products?q=espresso")[1]
    assert products[0]["price"] == 219.0
    history = shop.request("GET", f"/products/{products[0]['id']}/prices")[1]
    assert [h["price"] for h in history] == [249.0, 219.0]
    orders = shop.request("GET", "/orders")[1]
    assert orders[0]["total"] == 19.94 and orders[0]["status"] == "delivered"
    alert = shop.request("GET", "/alerts")[1][0]
    assert alert["target_price"] == 249.0 and _t(alert["triggered_at"]) == _t(at(3))

    ship = parcels.request("GET", "/shipments/4711")[1]
    assert [e["status"] for e in ship["events"]] == ["announced", "in_transit"]
    assert ship["status"] == "in_transit" and ship["eta"] == "2026-03-17T12:00:00+01:00"
    # Another persona of the same world sees none of Maya's money.
    jonas = web.accounts[1]
    assert bank.request("GET", "/accounts", account=jonas) == (200, [])
    assert bank.request("GET", f"/accounts/{accs[0]['id']}", account=jonas)[0] == 404


def test_writes_use_the_world_clock_are_audited_and_idempotent(web):
    seeded(web)
    shop = web["shop"]
    pid = shop.request("GET", "/products?q=espresso")[1][0]["id"]
    assert shop.request("PUT", f"/cart/items/{pid}", {"qty": 1})[0] == 200
    key = {"Idempotency-Key": "order-1"}
    status, first = shop.request("POST", "/orders", {"confirm_total": 219}, headers=key)
    assert status == 201 and first["total"] == 219.0
    assert first["created_at"].startswith("2026-03-16T09:0")  # world time, not the host's
    again = shop.request("POST", "/orders", {"confirm_total": 219}, headers=key)
    assert again == (201, first)  # replayed, not a second order
    assert len(shop.rows("orders")) == 2  # the seeded one and this one
    other = shop.request("POST", "/orders", {"confirm_total": 1}, headers=key)
    assert other[0] == 409 and "Idempotency-Key" in other[1]["error"]
    posts = [r for r in shop.audit() if r["op"] == "HTTP POST" and r["path"] == "/orders"]
    assert [r["status"] for r in posts] == [201, 201, 409]
    assert posts[1]["replayed"] is True and posts[0]["body"] == {"confirm_total": 219}
    assert all(r["user"] == "maya" and r["t"].startswith("2026-03-16T09:") for r in posts)


def test_transfer_to_a_known_payee_runs_and_a_new_one_needs_a_phone(web):
    seeded(web)
    bank = web["bank"]
    acc = bank.request("GET", "/accounts")[1][0]["id"]
    payee = bank.request("GET", "/payees")[1][0]["id"]
    status, done = bank.request(
        "POST", "/transfers", {"from_account": acc, "payee_id": payee, "amount": "64.80"}
    )
    assert status == 201 and done["status"] == "done"
    assert bank.request("GET", "/accounts")[1][0]["balance"] == 3000.0
    too_much = {"from_account": acc, "payee_id": payee, "amount": 5000}
    assert bank.request("POST", "/transfers", too_much)[0] == 409
    # No phone in this world: the code cannot be sent, and nothing moves.
    new = {"from_account": acc, "payee": {"name": "Lena", "iban": "DE02120300000000202051"},
           "amount": 10}  # fmt: skip
    status, body = bank.request("POST", "/transfers", new)
    assert status == 409 and "phone" in body["error"]
    assert bank.request("GET", "/accounts")[1][0]["balance"] == 3000.0


def test_two_worlds_are_isolated(out_dir):
    a = [Account("maya")]
    b = [Account("maya")]  # same user name, other password
    with (
        ServiceStack(WEB, out_dir / "a", NOW, a) as one,
        ServiceStack(WEB, out_dir / "b", NOW, b) as two,
    ):
        seeded(one)
        assert one["bank"].port != two["bank"].port
        assert two["bank"].request("GET", "/accounts") == (200, [])
        status, _ = two["bank"].request("GET", "/accounts", account=a[0])
        assert status == 401
        assert one["bank"].request("GET", "/_rig/state", admin=False)[0] == 404
        one["bank"]._admin = two.admin_token  # another world's admin token opens nothing
        assert one["bank"].request("GET", "/_rig/state", admin=True)[0] == 404


def test_a_killed_service_host_is_an_infra_error_naming_the_service(out_dir):
    with ServiceStack(["bank"], out_dir, NOW, accounts()) as stack:
        os.kill(stack.process.pid, signal.SIGKILL)
        stack.process.wait(10)
        with pytest.raises(ServiceDown) as err:
            stack.check_alive()
        assert err.value.service == "bank"
        with pytest.raises(ServiceDown, match="service bank"):
            stack["bank"].request("GET", "/accounts")


hostile = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)


@pytest.fixture(scope="module")
def shared_web(tmp_path_factory) -> Iterator[ServiceStack]:
    with ServiceStack(WEB, tmp_path_factory.mktemp("web") / "services", NOW, accounts()) as s:
        yield s


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(counterparty=hostile, reference=hostile, item=hostile, text=hostile)
def test_hostile_text_round_trips_byte_for_byte(shared_web, counterparty, reference, item, text):
    tag = str(abs(hash((counterparty, reference, item, text))))
    stream = [
        {"t": at(0), "kind": "bank.transaction", "target": "service:bank",
         "account": f"acct {tag}", "amount": "-1.00", "currency": "EUR",
         "counterparty": counterparty, "reference": reference},
        {"t": at(1), "kind": "price.alert", "target": "service:shop", "item": item,
         "shop": tag, "price": "1.00", "currency": "EUR", "url": "https://x.example/p"},
        {"t": at(2), "kind": "parcel.update", "target": "service:parcels", "tracking": tag,
         "carrier": "DHL", "status": "in_transit", "text": text, "description": HOSTILE},
    ]  # fmt: skip
    seeded(shared_web, stream)  # every row read back field for field
    bank, shop = shared_web["bank"], shared_web["shop"]
    acc = next(a for a in bank.request("GET", "/accounts")[1] if a["name"] == f"acct {tag}")
    txn = bank.request("GET", f"/accounts/{acc['id']}/transactions")[1][0]
    assert (txn["counterparty"], txn["reference"]) == (counterparty, reference)
    product = next(p for p in shop.request("GET", "/products?limit=500")[1] if p["shop"] == tag)
    assert product["name"] == item
    events_ = shared_web["parcels"].request("GET", f"/shipments/{tag}")[1]["events"]
    assert events_[-1]["text"] == text


# -- bad requests: 4xx with a JSON error, never a 5xx ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile, inner, max_size=3),
    max_leaves=8,
)


def _operations(service) -> list[tuple[str, str, dict]]:
    doc = service.openapi()
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]


def _body_for(op: dict, data: st.DataObject, doc: dict) -> object:
    """Either random JSON or an object with the schema's field names and random values."""
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is None or data.draw(st.booleans()):
        return data.draw(json_values)
    ref = content["schema"].get("$ref", "")
    schema = doc["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    names = list(schema.get("properties", {}))
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    return {n: data.draw(json_values) for n in chosen}


@pytest.mark.parametrize("name", WEB)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bad_requests_get_a_json_4xx_never_a_5xx(shared_web, name, data):
    service = shared_web[name]
    doc = service.openapi()
    method, path, op = data.draw(st.sampled_from(_operations(service)))
    chars = st.characters(min_codepoint=33, max_codepoint=0x2FFF, blacklist_characters="/?#%")
    segment = st.text(chars, min_size=1, max_size=20)
    for param in op.get("parameters", []):
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", data.draw(segment))
    query = data.draw(st.dictionaries(st.sampled_from(["q", "limit", "since", "x"]), segment))
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query)
    body = _body_for(op, data, doc) if method in ("POST", "PUT", "PATCH") else None
    anonymous = data.draw(st.booleans())
    account = Account("nobody", password="wrong") if anonymous else None
    from urllib.parse import quote

    status, answer = service.request(method, quote(path, safe="/?=&"), body, account=account)
    assert status < 500, (method, path, body, answer)
    if status >= 400:
        assert isinstance(answer, dict) and answer.get("error"), answer
    if anonymous:
        assert status == 401


def test_openapi_documents_every_route_and_hides_the_rigs(shared_web):
    for name in WEB:
        doc = shared_web[name].openapi()
        assert doc["info"]["title"] and not [p for p in doc["paths"] if p.startswith("/_rig")]
    assert "/transfers/{transfer_id}/confirm" in shared_web["bank"].openapi()["paths"]
    assert json.loads(json.dumps(shared_web["shop"].openapi()))  # plain JSON


def test_amounts_are_exact_cents():
    from rig.services.web_app import cents

    assert cents(Decimal("0.1") + Decimal("0.2")) == 30 and cents("19.995") == 2000


def test_a_new_world_in_a_reused_folder_starts_empty(out_dir):
    with ServiceStack(["bank"], out_dir, NOW, accounts()) as first:
        seeded(first, [e for e in STREAM if e["kind"] == "bank.transaction"])
        assert first["bank"].rows("transactions")
    with ServiceStack(["bank"], out_dir, NOW, accounts()) as second:
        assert second["bank"].rows("transactions") == []


def test_each_device_role_has_its_own_port_and_the_audit_names_it(out_dir):
    with ServiceStack(["bank"], out_dir, NOW, accounts(), clients=["phone", "laptop"]) as s:
        bank = s["bank"]
        who = base64.b64encode(f"{bank.account.user}:{bank.account.password}".encode()).decode()
        ports = {role: bank.port_for(role) for role in ("phone", "laptop", None)}
        assert len(set(ports.values())) == 3 and ports[None] == bank.port
        for port in ports.values():
            headers = {"Authorization": f"Basic {who}"}
            assert json_round_trip("bank", port, "GET", "/accounts", None, headers, 10)[0] == 200
        clients = [r["client"] for r in bank.audit() if r["op"] == "HTTP GET"]
        assert clients[:2] == ["phone", "laptop"] and clients[2].startswith("127.0.0.1:")
        assert bank.endpoint("laptop")["url"] == f"http://127.0.0.1:{ports['laptop']}"
        assert web_access(s.services, "phone")["bank"]["port"] == ports["phone"]
        with pytest.raises(KeyError, match="laptop, phone"):
            bank.port_for("watch")
