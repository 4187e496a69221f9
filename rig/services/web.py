"""The world's bank, shop and parcels, controller side: endpoints, health, seeding, readers.

Every call is a real HTTP round trip to the world's uvicorn. Seeding writes a
whole plan in one request to the app's ``/_rig/seed`` route and reads every
table back in one more (``/_rig/state``), so a batch of thousands of rows costs
two round trips; each seeded row must read back field for field. Readers answer
``rows`` (one table, as stored) and ``audit``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rig.services.audit import read_audit
from rig.services.base import Account, ServiceDown, json_round_trip, role_port
from rig.services.read_back import check_read_back

# table -> the columns that name a row (the SQLite primary key)
KEYS: dict[str, tuple[str, ...]] = {"cart": ("user", "product_id")}


def row_key(table: str, row: Mapping[str, Any]) -> str:
    return "/".join(str(row[c]) for c in KEYS.get(table, ("id",)))


class WebService:
    """One FastAPI app of one world, reached over loopback HTTP."""

    name = ""
    tables: tuple[str, ...] = ()

    def __init__(self, stack: Any, ports: Mapping[str, Any]) -> None:
        self.stack = stack
        self.port = int(ports["http"])
        self.client_ports: dict[str, dict[str, int]] = dict(ports.get("clients") or {})
        self.account: Account = stack.accounts[0]
        self.audit_path: Path = stack.audit_path(self.name)
        self._admin: str = stack.admin_token
        self.round_trips = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def port_for(self, role: str | None = None) -> int:
        """A device role's own port (the audit names the role), or the rig's."""
        return role_port(self.name, self.port, self.client_ports, role)

    def endpoint(self, role: str | None = None) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port_for(role)}"
        return {
            "url": url,
            "openapi": f"{url}/openapi.json",
            "user": self.account.user,
            "password": self.account.password,
        }

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        account: Account | None = None,
        headers: Mapping[str, str] | None = None,
        admin: bool = False,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """One HTTP round trip as ``account`` (the persona by default); JSON in and out."""
        sent = {"Accept": "application/json", **(headers or {})}
        if admin:
            sent["X-Rig-Admin"] = self._admin
        else:
            who = account or self.account
            token = base64.b64encode(f"{who.user}:{who.password}".encode()).decode()
            sent["Authorization"] = f"Basic {token}"
        data = b""
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json"
        self.round_trips += 1
        return json_round_trip(self.name, self.port, method, path, data or None, sent, timeout)

    def health(self) -> None:
        status, doc = self.request("GET", "/_rig/health", admin=True)
        if status != 200 or not isinstance(doc, dict) or not doc.get("tables"):
            raise ServiceDown(self.name, f"GET /_rig/health answered {status}: {str(doc)[:200]}")

    def openapi(self) -> dict[str, Any]:
        return self.request("GET", "/openapi.json")[1]

    def state(self) -> dict[str, list[dict[str, Any]]]:
        """Every table as stored (the rig's own route; never audited as the persona)."""
        status, body = self.request("GET", "/_rig/state", admin=True)
        if status != 200 or not isinstance(body, dict):
            raise ServiceDown(self.name, f"GET /_rig/state answered {status}: {str(body)[:200]}")
        return body

    def rows(self, table: str) -> list[dict[str, Any]]:
        state = self.state()
        if table not in state:
            from rig.services.readers import ServiceInputError

            known = ", ".join(sorted(state))
            raise ServiceInputError(f"{self.name} has no table {table!r} (tables: {known})")
        return state[table]

    def seed(self, plan: Any) -> dict[str, Any]:
        """Write the plan's rows in one request, read every table back, compare each row."""
        me = self.account.user
        tables = {
            t: [{**r, "user": me} if r.get("user") == "" else r for r in rows]
            for t, rows in plan.tables.items()
            if rows
        }
        before = self.round_trips
        if tables:
            status, body = self.request("POST", "/_rig/seed", {"tables": tables}, admin=True)
            if status != 200:
                raise ServiceDown(self.name, f"seed answered {status}: {str(body)[:300]}")
        state = self.state()
        for table, rows in tables.items():
            have = {row_key(table, r): r for r in state.get(table, [])}
            for want in rows:
                key = row_key(table, want)
                check_read_back(self.name, f"{table} {key!r}", want, have.get(key))
        text = json.dumps(tables, sort_keys=True, ensure_ascii=False)
        return {
            "digest": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "rows": {t: len(r) for t, r in tables.items()},
            "round_trips": self.round_trips - before,
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "collections": {
                t: {row_key(t, r): r for r in rows}
                for t, rows in self.state().items()
                if t in self.tables
            }
        }

    def audit(self) -> list[dict[str, Any]]:
        return read_audit(self.audit_path)

    def read_state(self, query: Any) -> Any:
        from rig.services import readers

        return readers.read(self, query)

    def close(self) -> None:
        pass


class BankService(WebService):
    name = "bank"
    tables = ("accounts", "transactions", "payees", "transfers", "standing_orders")

    def audit(self) -> list[dict[str, Any]]:
        """The audit log as of now: one request first, so standing orders that world time
        has made due are booked (and logged) before the log is read."""
        self.request("GET", "/_rig/health", admin=True)
        return super().audit()


class ShopService(WebService):
    name = "shop"
    tables = ("products", "prices", "cart", "orders", "order_lines", "returns", "alerts")


class ParcelsService(WebService):
    name = "parcels"
    tables = ("shipments", "tracking", "slots", "pickup_points")
