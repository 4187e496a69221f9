"""The world's parcel carrier, host side: shipments, tracking events, slots, redirects.

A shipment not yet delivered can be redirected once to a neighbour (by name and
address) or to a pickup point; redirecting or choosing a delivery slot adds a
tracking event at the world's time, which is what a person would see in the
carrier's app.
"""

import uuid
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, StringConstraints

from rig.services.audit import AuditLog
from rig.services.web_app import ApiError, WebContext, make_app

SCHEMA = """
CREATE TABLE IF NOT EXISTS shipments (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, carrier TEXT NOT NULL, sender TEXT NOT NULL,
    description TEXT NOT NULL, status TEXT NOT NULL, eta TEXT, slot_id TEXT,
    deliver_to TEXT NOT NULL, redirect TEXT, order_ref TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tracking (
    id TEXT PRIMARY KEY, shipment_id TEXT NOT NULL, at TEXT NOT NULL, status TEXT NOT NULL,
    location TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (
    id TEXT PRIMARY KEY, shipment_id TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pickup_points (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, address TEXT NOT NULL, hours TEXT NOT NULL);
"""
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
OPEN = ("announced", "in_transit", "out_for_delivery")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Redirect(_Body):
    to: Literal["neighbour", "pickup_point"]
    neighbour_name: Text | None = None
    neighbour_address: Text | None = None
    pickup_point_id: Text | None = None


class ChooseSlot(_Body):
    slot_id: Text


def build(ctx: WebContext, audit: AuditLog) -> FastAPI:
    app = make_app(
        ctx,
        audit,
        "Parcels API",
        "Your shipments with tracking events; choose a delivery slot, or redirect a parcel "
        "to a neighbour or a pickup point before it is delivered. HTTP Basic auth. Writes "
        "accept an Idempotency-Key header.",
    )
    db = ctx.db

    def user(request: Request) -> str:
        return ctx.user(request)

    User = Annotated[str, Depends(user)]

    def shipment_of(who: str, sid: str) -> dict[str, Any]:
        row = db.one("SELECT * FROM shipments WHERE id=? AND user=?", (sid, who))
        if row is None:
            raise ApiError(404, f"no shipment {sid!r}")
        return row

    def view(row: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "carrier", "sender", "description", "status", "eta", "slot_id")
        out = {k: row[k] for k in keys}
        out.update(deliver_to=row["deliver_to"], redirect=row["redirect"], order=row["order_ref"])
        out["events"] = [
            {k: e[k] for k in ("at", "status", "location", "text")}
            for e in db.rows("SELECT * FROM tracking WHERE shipment_id=? ORDER BY at", (row["id"],))
        ]
        return out

    def track(sid: str, status: str, text: str, location: str = "") -> None:
        db.run(
            "INSERT INTO tracking VALUES (?,?,?,?,?,?)",
            (f"ev-{uuid.uuid4().hex[:10]}", sid, ctx.now(), status, location, text),
        )

    @app.get("/shipments", summary="Your shipments, open ones first")
    def shipments(who: User) -> list[dict[str, Any]]:
        rows = db.rows("SELECT * FROM shipments WHERE user=? ORDER BY eta", (who,))
        rows.sort(key=lambda r: r["status"] not in OPEN)
        return [view(r) for r in rows]

    @app.get("/shipments/{shipment_id}", summary="One shipment with its tracking events")
    def shipment(shipment_id: str, who: User) -> dict[str, Any]:
        return view(shipment_of(who, shipment_id))

    @app.get("/shipments/{shipment_id}/slots", summary="Delivery slots you can choose")
    def slots(shipment_id: str, who: User) -> list[dict[str, Any]]:
        shipment_of(who, shipment_id)
        rows = db.rows("SELECT * FROM slots WHERE shipment_id=? ORDER BY start", (shipment_id,))
        return [{k: r[k] for k in ("id", "start", "end")} for r in rows]

    @app.post("/shipments/{shipment_id}/slot", summary="Choose a delivery slot")
    def choose(shipment_id: str, body: ChooseSlot, who: User) -> dict[str, Any]:
        row = shipment_of(who, shipment_id)
        if row["status"] not in OPEN:
            raise ApiError(409, f"the shipment is {row['status']}")
        slot = db.one(
            "SELECT * FROM slots WHERE id=? AND shipment_id=?", (body.slot_id, shipment_id)
        )
        if slot is None:
            raise ApiError(404, f"no slot {body.slot_id!r} for this shipment")
        db.run(
            "UPDATE shipments SET slot_id=?, eta=? WHERE id=?",
            (slot["id"], slot["start"], shipment_id),
        )
        track(shipment_id, row["status"], f"delivery slot chosen: {slot['start']} - {slot['end']}")
        return view(shipment_of(who, shipment_id))

    @app.get("/pickup-points", summary="Pickup points near you")
    def points(_who: User) -> list[dict[str, Any]]:
        return db.rows("SELECT id, name, address, hours FROM pickup_points ORDER BY name")

    @app.post("/shipments/{shipment_id}/redirect", summary="Redirect before delivery")
    def redirect(shipment_id: str, body: Redirect, who: User) -> dict[str, Any]:
        row = shipment_of(who, shipment_id)
        if row["status"] not in OPEN:
            raise ApiError(409, f"the shipment is {row['status']}; it can no longer be redirected")
        if row["redirect"]:
            raise ApiError(409, "the shipment was already redirected")
        if body.to == "neighbour":
            if not body.neighbour_name or not body.neighbour_address:
                raise ApiError(422, "a neighbour needs neighbour_name and neighbour_address")
            target = f"neighbour: {body.neighbour_name}, {body.neighbour_address}"
        else:
            point = body.pickup_point_id and db.one(
                "SELECT * FROM pickup_points WHERE id=?", (body.pickup_point_id,)
            )
            if not point:
                raise ApiError(404, f"no pickup point {body.pickup_point_id!r}")
            target = f"pickup point: {point['name']}, {point['address']}"
        db.run("UPDATE shipments SET redirect=? WHERE id=?", (target, shipment_id))
        track(shipment_id, row["status"], f"redirected to {target}")
        return view(shipment_of(who, shipment_id))

    return app
