"""CalDAV/CardDAV, controller side: the HTTP round trips calendar and contacts share.

Plain :mod:`http.client` with Basic auth against the world's Radicale; a whole
collection is imported with one ``PUT`` of a multi-object file and read back
with one ``REPORT`` (every object's href, ETag and data).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from rig.services.audit import read_audit
from rig.services.base import Account, ServiceDown
from rig.services.dav_server import COLLECTIONS
from rig.services.read_back import check_read_back

NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav", "R": "urn:ietf:params:xml:ns:carddav"}


def plain(record: Any) -> dict[str, Any]:
    """A reader record as a dict (shallow: no deep copy of tzinfo objects)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


@dataclass
class DavObject:
    href: str
    etag: str
    data: str


class DavService:
    """One Radicale of one world; subclasses say which collection and how to parse it."""

    name = ""
    content_type = ""
    report_body = ""

    def __init__(self, stack: Any, ports: Mapping[str, Any]) -> None:
        self.stack = stack
        self.port = int(ports["http"])
        self.client_ports: dict[str, dict[str, int]] = dict(ports.get("clients") or {})
        self.account: Account = stack.accounts[0]
        self.state: Path = stack.state_dir(self.name)
        self.audit_path: Path = stack.audit_path(self.name)
        self.collection = COLLECTIONS[self.name][0]
        self.round_trips = 0

    def port_for(self, role: str | None = None) -> int:
        """The host port for a device role (its own, so the audit names it), or the rig's."""
        if role is None:
            return self.port
        try:
            return int(self.client_ports[role]["http"])
        except KeyError:
            known = ", ".join(sorted(self.client_ports)) or "none"
            raise KeyError(f"{self.name} has no port for role {role!r} (roles: {known})") from None

    def url(self, account: Account | None = None, role: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port_for(role)}{self.path(account)}"

    def path(self, account: Account | None = None) -> str:
        return f"/{quote((account or self.account).user)}/{self.collection}/"

    def endpoint(self, role: str | None = None) -> dict[str, Any]:
        return {
            "url": self.url(role=role),
            "user": self.account.user,
            "password": self.account.password,
        }

    def request(
        self,
        method: str,
        path: str,
        body: str | bytes = b"",
        headers: Mapping[str, str] | None = None,
        account: Account | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP round trip as ``account`` (the persona by default)."""
        account = account or self.account
        token = base64.b64encode(f"{account.user}:{account.password}".encode()).decode()
        sent = {"Authorization": f"Basic {token}", **(headers or {})}
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.round_trips += 1
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                conn.request(method, path, body=data, headers=sent)
                resp = conn.getresponse()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
            finally:
                conn.close()
        except OSError as exc:
            raise ServiceDown(self.name, f"{method} {path} failed: {exc}") from exc

    def health(self) -> None:
        query = '<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'
        headers = {"Depth": "0", "Content-Type": "application/xml"}
        status, _h, body = self.request("PROPFIND", self.path(), query, headers)
        if status != 207:
            why = f"PROPFIND {self.path()} answered {status}: {body[:200]!r}"
            raise ServiceDown(self.name, why)

    def import_collection(self, text: str, account: Account | None = None) -> None:
        """Replace the whole collection with ``text`` (many objects) in one PUT."""
        path = self.path(account)
        headers = {"Content-Type": f"{self.content_type}; charset=utf-8"}
        status, _h, body = self.request("PUT", path, text, headers, account, timeout=600)
        if status not in (200, 201, 204):
            raise ServiceDown(self.name, f"PUT {path} answered {status}: {body[:300]!r}")

    def objects(self, account: Account | None = None) -> list[DavObject]:
        """Every object of the collection with its data, in one REPORT."""
        path = self.path(account)
        status, _h, body = self.request(
            "REPORT",
            path,
            self.report_body,
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            account,
        )
        if status == 403 or status == 401:
            raise PermissionError(f"{self.name}: REPORT {path} answered {status}")
        if status != 207:
            raise ServiceDown(self.name, f"REPORT {path} answered {status}: {body[:300]!r}")
        out = []
        for resp in ET.fromstring(body).findall("D:response", NS):
            href = unquote(resp.findtext("D:href", "", NS))
            etag = resp.findtext(".//D:getetag", "", NS)
            data = resp.findtext(".//C:calendar-data", None, NS)
            if data is None:
                data = resp.findtext(".//R:address-data", None, NS)
            if data is not None:
                out.append(DavObject(href, etag, data))
        return sorted(out, key=lambda o: o.href)

    def audit(self) -> list[dict[str, Any]]:
        return read_audit(self.audit_path)

    def read_state(self, query: Any) -> Any:
        """Answer a :mod:`rig.services.readers` query (calendar_events/contacts, audit)."""
        from rig.services import readers

        return readers.read(self, query)

    def seed(self, plan: Any) -> dict[str, Any]:
        """Import the plan's collection in one PUT, read it back in one REPORT, compare."""
        expected = self._expected(plan)
        before = self.round_trips
        if expected:
            self.import_collection(plan.text)
        got = {r["uid"]: r for r in self._read_back()}
        for uid, want in expected.items():
            check_read_back(self.name, repr(uid), want, got.get(uid))
        digest = hashlib.sha256(plan.text.encode("utf-8")).hexdigest()
        return {
            "digest": digest,
            "objects": len(expected),
            "round_trips": self.round_trips - before,
        }

    def _expected(self, plan: Any) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def _read_back(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        pass
