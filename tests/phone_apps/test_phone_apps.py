"""The phone's Bank, Shop, Parcels and Chat apps in a real world: the world's FastAPI
services and Synapse, the virtual phone behind the real adb server, every move an Env
action (launch, ui_tree, tap, type, key). What the apps do is read back from the
services (their state through the rig's readers, Synapse through its client API) and
from their audit logs, where the phone's requests carry the role ``phone``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.api import TaskEnv
from rig.config import RigConfig
from rig.services.chat_server import SERVER_NAME, localpart
from tests.phone_apps.agent import Hands

FIXTURE = Path(__file__).parent / "fixtures" / "apps-world"
BANK, SHOP = "world.clawrig.bank", "world.clawrig.shop"
PARCELS, CHAT = "world.clawrig.parcels", "world.clawrig.chat"
MESSAGES = "com.google.android.apps.messaging"
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

# What a person types, one line (a newline in a one-line field is the keyboard's "next").
HOSTILE_LINE = st.text(
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc", "Zl", "Zp"),
        include_characters="\"'$`%\\😀漢字東京",
    ),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and s.strip())


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[TaskEnv]:
    """One world for the module: the phone and the four services, seeded and provisioned."""
    from emulator.adb import AdbServer

    server = AdbServer.private()
    old = os.environ.get("ANDROID_ADB_SERVER_PORT")
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(server.port)
    # A smaller screen than the default: every step's screenshots cost less.
    config = RigConfig.model_validate({"android": {"sim": {"size": "720x1280", "density": 320}}})
    task_env = TaskEnv(FIXTURE, config, out=tmp_path_factory.mktemp("apps") / "ep")
    try:
        task_env.reset()
        yield task_env
    finally:
        task_env.close()
        server.kill()
        if old is None:
            os.environ.pop("ANDROID_ADB_SERVER_PORT", None)
        else:
            os.environ["ANDROID_ADB_SERVER_PORT"] = old


def fresh_hands(env: TaskEnv) -> Hands:
    """The agent's hands on the home screen with the apps closed (each opens at its top)."""
    phone = env.episode.world["phone"]
    for app in (BANK, SHOP, PARCELS, CHAT, MESSAGES):
        phone.stop_app(app)
    h = Hands(env)
    h.key("home")
    return h


@pytest.fixture
def hands(env: TaskEnv) -> Hands:
    """Each test starts from the home screen with the apps closed."""
    return fresh_hands(env)


def services(env: TaskEnv) -> dict:
    return env.episode.world.services


def _phone_requests(env: TaskEnv, name: str, method: str, path: str) -> list[dict]:
    return [
        r
        for r in services(env)[name].audit()
        if r["op"] == f"HTTP {method}" and re.fullmatch(path, r["path"])
    ]


def _sms_code(hands: Hands) -> str:
    """Read the bank's newest code the way a person does: in Messages."""
    hands.launch(MESSAGES)
    hands.tap(contains="is your code")
    bodies = [e.text for e in hands.find(rid="message_text") if "is your code" in e.text]
    assert bodies, hands.texts()
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def test_a_transfer_to_a_new_payee_is_confirmed_with_the_code_from_messages(env, hands):
    bank = services(env)["bank"]
    hands.launch(BANK)
    assert "3,064.80 EUR" in hands.texts()
    hands.tap(text="Transfer")
    reference = 'Kino "Fr" $HOME `id` 50% 😀 東京'
    for field, text in (
        ("payee", "Lena Albrecht"),
        ("iban", "DE02 1203 0000 0000 2020 51"),
        ("amount", "12,50"),
        ("reference", reference),
    ):
        hands.tap(rid=field)
        hands.type(text)
    hands.tap(text="Send money")
    assert "Security check" in hands.texts()  # the bank asked for the code it texted
    code = _sms_code(hands)
    hands.launch(BANK)  # back to where the user left the bank: the code screen
    hands.tap(rid="code")
    hands.type(f"{(int(code) + 1) % 10**6:06d}")
    hands.tap(text="Confirm")
    assert any("wrong code (2 attempts left)" in t for t in hands.texts())
    for _ in range(6):
        hands.key("del")
    hands.type(code)
    hands.tap(text="Confirm")
    texts = hands.texts()
    assert "Sent 12.50 EUR to Lena Albrecht" in texts and "3,052.30 EUR" in texts
    done = [t for t in bank.rows("transfers") if t["status"] == "done"]
    assert [(t["amount_cents"], t["reference"]) for t in done] == [(1250, reference)]
    payee = next(p for p in bank.rows("payees") if p["name"] == "Lena Albrecht")
    assert payee["iban"] == "DE02120300000000202051" and payee["verified"] == 1
    for path in ("/transfers", r"/transfers/[^/]+/confirm"):
        calls = _phone_requests(env, "bank", "POST", path)
        assert calls and {r["client"] for r in calls} == {"phone"}
        assert {r["user"] for r in calls} == {bank.account.user}


def test_a_standing_order_from_the_app(env, hands):
    bank = services(env)["bank"]
    hands.launch(BANK)
    hands.tap(text="Standing orders")
    hands.tap(text="New standing order")
    hands.tap(text="Klempner Albrecht")
    hands.tap(rid="amount")
    hands.type("40")
    hands.tap(text="Weekly")
    hands.tap(text="Create standing order")
    assert "Standing order created" in hands.texts()
    orders = bank.rows("standing_orders")
    assert [(o["amount_cents"], o["interval"], o["cancelled_at"]) for o in orders] == [
        (4000, "weekly", None)
    ]


def test_the_parcels_redirect_from_the_app_is_in_the_state_and_the_audit(env, hands):
    parcels = services(env)["parcels"]
    hands.launch(PARCELS)
    hands.tap(text="1 x Espresso machine")
    assert "Status: out for delivery" in hands.texts()
    hands.tap(text="Redirect")
    hands.tap(text="Parcel locker Bahnhof")
    hands.tap(text="Redirect")  # the confirmation dialog's button
    texts = hands.texts()
    assert "Redirected to Parcel locker Bahnhof" in texts
    shipment = next(s for s in parcels.rows("shipments") if s["id"] == "4711")
    assert shipment["redirect"] == "pickup point: Parcel locker Bahnhof, Bahnhofstr. 1"
    assert any("redirected to pickup point" in e["text"] for e in parcels.rows("tracking"))
    calls = _phone_requests(env, "parcels", "POST", "/shipments/4711/redirect")
    assert [(r["client"], r["status"], r["body"]["to"]) for r in calls] == [
        ("phone", 200, "pickup_point")
    ]
    # Once redirected, the app offers no second redirect (the service would refuse it).
    assert "Redirect" not in texts


def test_a_delivery_slot_chosen_in_the_app(env, hands):
    parcels = services(env)["parcels"]
    hands.launch(PARCELS)
    hands.tap(text="1 x Espresso machine")
    hands.tap(text="Delivery slot")
    slot = hands.find(contains=" – ")[-1]  # "2026-03-17 14:00 – 18:00"
    hands.step(action="tap", element=slot.id)
    assert any(t.startswith("Delivery slot chosen: ") for t in hands.texts())
    shipment = next(s for s in parcels.rows("shipments") if s["id"] == "4711")
    chosen = next(s for s in parcels.rows("slots") if s["id"] == shipment["slot_id"])
    assert chosen["start"][11:16] == slot.text[11:16]


def test_the_shop_shows_the_price_history_and_places_an_order(env, hands):
    shop = services(env)["shop"]
    hands.launch(SHOP)
    hands.tap(text="Espresso machine")
    texts = hands.texts()
    assert texts.count("219.00 EUR") == 2 and "249.00 EUR" in texts and "lowest" in texts
    hands.tap(text="Add to cart")
    hands.tap(text="Cart")
    hands.tap(text="Place order")
    hands.tap(text="Place order")  # the confirmation dialog
    assert "Thank you! Your order is placed." in hands.texts()
    orders = [o for o in shop.rows("orders") if o["status"] == "placed"]
    assert [o["total_cents"] for o in orders] == [21900]
    calls = _phone_requests(env, "shop", "POST", "/orders")
    assert [(r["client"], r["body"]["confirm_total"]) for r in calls] == [("phone", 219.0)]


def _as_lena(env: TaskEnv, room: str, body: str) -> str:
    """Lena writes in ``room`` from her own client (the rig's chat service client)."""
    chat = services(env)["chat"]
    rid = next(m["room_id"] for m in chat.messages() if m["room"] == room)
    lena = f"@{localpart('Lena Albrecht')}:{SERVER_NAME}"
    status, answer = chat._call(
        "POST",
        f"/_matrix/client/v3/rooms/{quote(rid)}/send/m.room.message",
        {"msgtype": "m.text", "body": body},
        user_id=lena,
    )
    assert status == 200, answer
    return answer["event_id"]


def _room_row(hands: Hands, name: str):
    rows = [e for e in hands.find(rid="room") if e.desc.split(",")[0] == name]
    assert rows, hands.texts()
    return rows[0]


def _unread(row) -> int:
    found = re.search(r", (\d+) unread$", row.desc)
    return int(found.group(1)) if found else 0


def test_a_message_from_the_laptop_side_shows_unread_and_a_reply_reads_back(env, hands):
    chat = services(env)["chat"]
    hands.launch(CHAT)
    before = _unread(_room_row(hands, "friends"))
    laptop_text = 'Treffen um 19:30 am "Kino"? 🍿'
    event_id = _as_lena(env, "friends", laptop_text)
    hands.step(action="swipe", x1=360, y1=400, x2=360, y2=1100, duration_ms=400)  # refresh
    row = _room_row(hands, "friends")
    assert _unread(row) == before + 1  # Synapse's notification count
    assert f"Lena Albrecht: {laptop_text}" in hands.texts()
    hands.step(action="tap", element=row.id)
    hands.tap(text=laptop_text)
    hands.tap(desc="React with 👍")
    hands.tap(text=laptop_text)
    hands.tap(text="Reply")
    reply = 'Ja, 19:30 passt!\n$HOME `x` "ok" 😀 漢字'
    hands.type(reply)
    hands.tap(text="Send")
    assert reply in hands.texts()
    mine = [m for m in chat.messages() if m["body"] == reply]
    assert [(m["room"], m["sender"], m["in_reply_to"]) for m in mine] == [
        ("friends", chat.me, event_id)
    ]
    assert mine[0]["ts"].date().isoformat() == "2026-03-16"  # the world's clock, not the host's
    rid = mine[0]["room_id"]
    _, page = chat._call(
        "GET", f"/_matrix/client/v3/rooms/{quote(rid)}/messages?dir=b&limit=50", user_id=chat.me
    )
    reactions = [
        e["content"]["m.relates_to"]
        for e in page["chunk"]
        if e["type"] == "m.reaction" and e["sender"] == chat.me
    ]
    assert reactions == [{"rel_type": "m.annotation", "event_id": event_id, "key": "👍"}]
    hands.key("back")  # the room list resumes and syncs
    assert _unread(_room_row(hands, "friends")) == 0  # read on the server


def test_a_redirect_to_a_neighbour_keeps_the_name_as_typed(env, hands):
    parcels = services(env)["parcels"]
    hands.launch(PARCELS)
    hands.tap(text="2 x Batteries")
    hands.tap(text="Redirect")
    name, address = 'Frau "Öz" $USER `id` 50% 😀 李', "Haus 2, EG links"
    hands.tap(rid="neighbour_name")
    hands.type(name)
    hands.tap(rid="neighbour_address")
    hands.type(address)
    hands.tap(text="Redirect to neighbour")
    shipment = next(s for s in parcels.rows("shipments") if s["id"] == "4712")
    assert shipment["redirect"] == f"neighbour: {name}, {address}"
    assert f"Redirected to {name}" in hands.texts()


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=HOSTILE_LINE)
def test_hostile_text_typed_into_chat_and_bank_round_trips(env, text):
    hands = fresh_hands(env)  # each example too: not on a screen the one before left
    chat, bank = services(env)["chat"], services(env)["bank"]
    hands.launch(CHAT)
    hands.step(action="tap", element=_room_row(hands, "Nordhaus team").id)
    hands.tap(rid="compose")
    hands.type(text)
    hands.tap(text="Send")
    hands.key("back")
    room = [m for m in chat.messages() if m["room"] == "Nordhaus team"]  # oldest first
    assert (room[-1]["sender"], room[-1]["body"]) == (chat.me, text)
    hands.key("home")
    hands.launch(BANK)
    hands.tap(text="Transfer")
    hands.tap(text="Klempner Albrecht")  # a saved payee fills name and IBAN
    hands.tap(rid="amount")
    hands.type("1")
    hands.tap(rid="reference")
    hands.type(text)
    hands.tap(text="Send money")
    assert "Sent 1.00 EUR to Klempner Albrecht" in hands.texts()
    assert bank.rows("transfers")[-1]["reference"] == text
