"""What every service offers the rig, and where each one's code lives.

The same shape as the device contracts in :mod:`rig.world`: a structural
protocol and a lazy registry, so a new service needs no inheritance and no
edits to the controller. The lifecycle (start, stop, reap) belongs to the
world's :class:`rig.services.stack.ServiceStack`; each service adds ``health``
(a real protocol round trip), ``seed`` (a batch, verified by read-back),
readers for scoring, and its ``audit`` log.
"""

from __future__ import annotations

import http.client
import importlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from rig.errors import InfraError

# Service name -> "module:class" of its controller side (imported when a task asks for it).
SERVICES: dict[str, str] = {
    "mail": "rig.services.mail:MailService",
    "calendar": "rig.services.calendar:CalendarService",
    "contacts": "rig.services.contacts:ContactsService",
    "bank": "rig.services.web:BankService",
    "shop": "rig.services.web:ShopService",
    "parcels": "rig.services.web:ParcelsService",
    "chat": "rig.services.chat:ChatService",
}


class ServiceDown(InfraError):
    """A service did not come up, stopped answering, or did not seed; names the service."""

    def __init__(self, service: str, message: str, log_tail: str = "") -> None:
        text = f"service {service}: {message}"
        if log_tail.strip():
            text += "\n--- log tail ---\n" + log_tail.rstrip()
        super().__init__(text, device=f"service:{service}")
        self.service = service
        self.reason = message
        self.log_tail = log_tail


@dataclass(frozen=True)
class Account:
    """One person's login on every service of a world; the first account is the persona's."""

    user: str
    addresses: tuple[str, ...] = ()
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12), repr=False)

    def to_host(self) -> dict[str, Any]:
        return {"user": self.user, "password": self.password, "addresses": list(self.addresses)}


@runtime_checkable
class Service(Protocol):
    """A running service of one world, as the controller sees it."""

    name: str

    def health(self) -> None:
        """One real protocol round trip; raises :class:`ServiceDown` when it fails."""
        ...

    def seed(self, plan: Any) -> Mapping[str, Any]:
        """Apply a compiled plan in a batch, read it back over the protocol, return a digest."""
        ...

    def endpoint(self, role: str | None = None) -> dict[str, Any]:
        """Where and how a client logs in (what ``rig world up`` prints); with a device
        ``role``, that role's own ports, so the audit log names the role."""
        ...

    def audit(self) -> list[dict[str, Any]]:
        """Every request the service handled so far, oldest first."""
        ...


def role_port(service: str, port: int, clients: Mapping[str, Any], role: str | None) -> int:
    """The host port a device role uses (its own, so the audit names it), or the rig's
    ``port`` for no role; an unknown role is a ``KeyError`` naming the known ones."""
    if role is None:
        return port
    try:
        return int(clients[role]["http"])
    except KeyError:
        known = ", ".join(sorted(clients)) or "none"
        raise KeyError(f"{service} has no port for role {role!r} (roles: {known})") from None


def service_class(name: str) -> type:
    target = SERVICES.get(name)
    if target is None:
        raise ValueError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def json_round_trip(
    service: str,
    port: int,
    method: str,
    path: str,
    data: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    what: str | None = None,
) -> tuple[int, Any]:
    """One HTTP request to a service on loopback: its status and its JSON answer (text
    when the answer is not JSON). A refused or dropped connection is the service gone:
    ``ServiceDown`` naming ``what`` (the request by default)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=dict(headers))
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
    except OSError as exc:
        raise ServiceDown(service, f"{what or f'{method} {path}'} failed: {exc}") from exc
    try:
        return resp.status, json.loads(raw) if raw else None
    except ValueError:
        return resp.status, raw.decode("utf-8", "replace")
