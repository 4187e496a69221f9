"""Parcels: shipments with their tracking events, a delivery slot, a redirect before delivery.

A client of the world's parcels API (``GET /shipments``, ``/shipments/{id}/slots``,
``POST /shipments/{id}/slot``, ``GET /pickup-points``, ``POST
/shipments/{id}/redirect``) with the phone's parcels account.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from emulator.sim.ui.apps.base import Entry
from emulator.sim.ui.apps.webapp import SOFT, WebApp, when
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ButtonRow, ListRow, Text

OPEN = ("announced", "in_transit", "out_for_delivery")


class ParcelsApp(WebApp):
    package = "world.clawrig.parcels"
    label = "Parcels"
    color = (196, 120, 0)
    apk = "/data/app/world.clawrig.parcels/base.apk"
    service = "parcels"
    server_label = "the parcel service"
    item_screens: ClassVar[frozenset[str]] = frozenset({"shipment", "slots", "redirect"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".MainActivity",
        "shipment": ".ShipmentActivity",
        "slots": ".DeliverySlotActivity",
        "redirect": ".RedirectActivity",
    }

    def refresh(self, entry: Entry) -> bool:
        def work() -> None:
            self.remember(shipments=self.api("GET", "/shipments"), loaded=True)

        return self.attempt(entry, work)

    def shipment(self, sid: str) -> dict[str, Any] | None:
        return next((s for s in self.cache.get("shipments") or [] if s.get("id") == sid), None)

    def _path(self, sid: str, tail: str = "") -> str:
        return f"/shipments/{quote(sid, safe='')}{tail}"

    # -- screens ---------------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        down = self.unavailable(entry, "Parcels", lambda: self.refresh(entry))
        if down is not None:
            return down
        body: list[View] = [*self.banner(entry)]
        for s in self.cache.get("shipments") or []:
            status = str(s.get("status") or "").replace("_", " ")
            eta = when(s.get("eta"))
            body.append(
                ListRow(
                    title=str(s.get("description") or s.get("id")),
                    subtitle=f"{s.get('carrier')} {s.get('id')} · {status}",
                    meta=eta if s.get("status") in OPEN else "",
                    avatar=self.color,
                    rid="shipment",
                    on_click=lambda s=s: self.open(s["id"]),
                )
            )
        if not self.cache.get("shipments"):
            body.append(self.empty_note("No shipments"))
        screen = Screen(self.toolbar("Parcels", up=False), body)
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def open(self, sid: str) -> None:
        entry = self.ui.push(self, "shipment", sid=sid)
        self.refresh(entry)

    def screen_shipment(self, entry: Entry) -> Screen:
        sid = str(entry["args"].get("sid") or "")
        s = self.shipment(sid)
        if s is None:
            return Screen(self.toolbar("Shipment"), [self.empty_note("This shipment is gone")])
        status = str(s.get("status") or "")
        body: list[View] = [
            *self.banner(entry),
            *self.notice(entry),
            Text(text=str(s.get("description") or sid), rid="description", size=20, bold=True),
            Text(text=f"{s.get('carrier')} · {sid}", rid="tracking_number", size=14, color=SOFT),
            Text(text=f"Status: {status.replace('_', ' ')}", rid="status", size=16),
        ]
        if s.get("sender"):
            body.append(Text(text=f"From: {s['sender']}", rid="sender", size=14, vpad=2))
        if status in OPEN and s.get("eta"):
            body.append(Text(text=f"Expected: {when(s['eta'])}", rid="eta", size=16))
        if s.get("redirect"):
            body.append(Text(text=f"Redirected to {s['redirect']}", rid="redirect", size=14))
        if status in OPEN:
            buttons = [self.button("Delivery slot", lambda: self.open_slots(sid), rid="slot")]
            if not s.get("redirect"):
                buttons.append(
                    self.button(
                        "Redirect",
                        lambda: self.open_redirect(sid),
                        rid="redirect_button",
                        style="outlined",
                    )
                )
            body.append(ButtonRow(children=buttons))
        body.append(Text(text="Tracking", rid="section", size=14, bold=True, color=self.color))
        for e in reversed(s.get("events") or []):
            place = f" · {e['location']}" if e.get("location") else ""
            body.append(
                ListRow(
                    title=str(e.get("text") or e.get("status") or ""),
                    subtitle=f"{when(e.get('at'))}{place}",
                    rid="tracking_event",
                    subtitle_lines=2,
                )
            )
        screen = Screen(self.toolbar("Shipment"), body)
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def open_slots(self, sid: str) -> None:
        entry = self.ui.push(self, "slots", sid=sid)

        def work() -> None:
            entry["args"]["slots"] = self.api("GET", self._path(sid, "/slots"))

        self.attempt(entry, work)

    def screen_slots(self, entry: Entry) -> Screen:
        sid = str(entry["args"].get("sid") or "")
        s = self.shipment(sid) or {}
        body: list[View] = [*self.banner(entry)]
        for slot in entry["args"].get("slots") or []:
            chosen = s.get("slot_id") == slot.get("id")
            row = ListRow(
                title=f"{when(slot.get('start'))} – {str(slot.get('end') or '')[11:16]}",
                subtitle="chosen" if chosen else "Tap to choose",
                rid="delivery_slot",
                on_click=lambda slot=slot: self.choose(entry, sid, slot),
            )
            row.selected = chosen
            body.append(row)
        if not entry["args"].get("slots"):
            body.append(self.empty_note("No delivery slots to choose"))
        return Screen(self.toolbar("Delivery slot"), body)

    def choose(self, entry: Entry, sid: str, slot: dict[str, Any]) -> None:
        body = {"slot_id": slot["id"]}
        key = self.submit_key(entry, body)
        if self.attempt(entry, lambda: self.api("POST", self._path(sid, "/slot"), body, key=key)):
            self._done(f"Delivery slot chosen: {when(slot.get('start'))}")

    def _done(self, notice: str) -> None:
        self.ui.back()  # the shipment screen resumes and fetches it again
        top = self.ui.top
        if top.get("pkg") == self.package:
            top["args"]["notice"] = notice

    def open_redirect(self, sid: str) -> None:
        entry = self.ui.push(self, "redirect", sid=sid)
        entry["form"] = {"neighbour_name": "", "neighbour_address": ""}

        def work() -> None:
            entry["args"]["points"] = self.api("GET", "/pickup-points")

        self.attempt(entry, work)

    def screen_redirect(self, entry: Entry) -> Screen:
        sid = str(entry["args"].get("sid") or "")
        body: list[View] = [
            *self.banner(entry),
            Text(text="To a neighbour", rid="section", size=14, bold=True, color=self.color),
            self.field(entry, "neighbour_name", "Neighbour's name"),
            self.field(entry, "neighbour_address", "Neighbour's address"),
            self.button(
                "Redirect to neighbour", lambda: self.to_neighbour(entry, sid), rid="to_neighbour"
            ),
            Text(text="To a pickup point", rid="section", size=14, bold=True, color=self.color),
        ]
        pending = entry["args"].get("point")
        dialog = None
        for p in entry["args"].get("points") or []:
            body.append(
                ListRow(
                    title=str(p.get("name") or ""),
                    subtitle=f"{p.get('address')} · {p.get('hours')}",
                    rid="pickup_point",
                    subtitle_lines=2,
                    on_click=lambda p=p: entry["args"].update(point=p["id"]),
                )
            )
            if pending == p.get("id"):
                dialog = self.confirm(
                    entry,
                    "Redirect to this pickup point?",
                    f"{p.get('name')}, {p.get('address')}",
                    "Redirect",
                    lambda p=p: self.to_point(entry, sid, p),
                )
                dialog.on_cancel = lambda: entry["args"].pop("point", None)
        return Screen(self.toolbar("Redirect"), body, dialog=dialog)

    def _redirect(self, entry: Entry, sid: str, body: dict[str, Any], notice: str) -> None:
        key = self.submit_key(entry, body)
        if self.attempt(
            entry, lambda: self.api("POST", self._path(sid, "/redirect"), body, key=key)
        ):
            self._done(notice)

    def to_neighbour(self, entry: Entry, sid: str) -> None:
        name = self.form(entry, "neighbour_name")
        address = self.form(entry, "neighbour_address")
        if not name.strip() or not address.strip():
            entry["args"]["error"] = "Fill in the neighbour's name and address"
            return
        body = {"to": "neighbour", "neighbour_name": name, "neighbour_address": address}
        self._redirect(entry, sid, body, f"Redirected to {name}")

    def to_point(self, entry: Entry, sid: str, point: dict[str, Any]) -> None:
        entry["args"].pop("point", None)
        body = {"to": "pickup_point", "pickup_point_id": point["id"]}
        self._redirect(entry, sid, body, f"Redirected to {point.get('name')}")
