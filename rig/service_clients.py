"""Hand every device of a world its accounts on the world's services.

After the services are up (and seeded), each device gets what a person would
set up by hand: the phone an accounts file pushed over adb and a first sync
(:mod:`emulator.service_accounts`), the laptop its guest ports pointed at the
world's servers and the configuration of neomutt, msmtp, mbsync, vdirsyncer,
khal and khard, then a first sync (:mod:`linux_vm.service_clients`). Both
devices then read and change the same server state through their own clients.
A first sync that fails is an infra error naming the device: the rig's fault,
never the agent's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rig.errors import InfraError


def client_access(
    services: Mapping[str, Any], name: str = "", role: str | None = None
) -> dict[str, dict[str, Any]]:
    """What a client needs of each service: credentials, host ports, collection paths.

    With a device ``role``, the ports are that role's own (the services' audit logs
    then name the role); a role the services have no ports for gets the shared ones."""
    access: dict[str, dict[str, Any]] = {}
    mail = services.get("mail")
    if mail is not None:
        account = mail.account
        try:
            ports = mail.ports_for(role)
        except KeyError:
            ports = mail.ports_for(None)
        access["mail"] = {
            "user": account.user,
            "password": account.password,
            "address": account.addresses[0] if account.addresses else "",
            "name": name,
            "imap_port": ports["imap"],
            "smtp_port": ports["smtp"],
        }
    for kind in ("calendar", "contacts"):
        dav = services.get(kind)
        if dav is not None:
            try:
                port = dav.port_for(role)
            except KeyError:
                port = dav.port
            access[kind] = {
                "user": dav.account.user,
                "password": dav.account.password,
                "port": port,
                "path": dav.path(),
            }
    return access


WEB = ("bank", "shop", "parcels", "chat")


def web_access(services: Mapping[str, Any], role: str | None = None) -> dict[str, dict[str, Any]]:
    """The web services and chat as a device reaches them: login and host port (with a
    ``role``, that role's own port when the service has one, so its audit names the role)."""
    out: dict[str, dict[str, Any]] = {}
    for name in WEB:
        if name not in services:
            continue
        service = services[name]
        try:
            port = service.port_for(role)
        except KeyError:  # a role the service has no port of its own for uses the shared one
            port = service.port
        out[name] = {
            "user": service.account.user,
            "password": service.account.password,
            "port": port,
        }
    return out


def _host_ports(access: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    ports: dict[tuple[str, str], int] = {}
    if "mail" in access:
        ports[("mail", "imap")] = int(access["mail"]["imap_port"])
        ports[("mail", "smtp")] = int(access["mail"]["smtp_port"])
    for kind in ("calendar", "contacts"):
        if kind in access:
            ports[(kind, "http")] = int(access[kind]["port"])
    return ports


def connect_devices(
    world: Any, name: str = "", redactor: Any = None, restored: bool = False
) -> dict[str, Any]:
    """Configure every device of ``world`` for its services; returns what each got.

    ``restored``: the devices come from a world checkpoint and already hold their clients'
    setup and first sync; only where the services now listen changes."""
    if not world.services:
        return {}
    web = web_access(world.services)
    if not client_access(world.services, name) and not web:
        return {}
    if redactor is not None:
        for entry in [*client_access(world.services, name).values(), *web.values()]:
            redactor.add(entry.get("password"))
    done: dict[str, Any] = {}
    for role, device in world.devices.items():
        access = client_access(world.services, name, role)  # the role's own ports
        try:
            if device.kind == "android":
                from emulator.service_accounts import provision

                # Mail and DAV sync; Bank, Shop, Parcels and Chat log in with what they keep.
                access.update(web_access(world.services, role))
                done[role] = provision(device, access, first_sync=not restored)
            elif device.kind == "linux" and getattr(device, "vm", None) is not None:
                from linux_vm import service_clients

                ports = _host_ports(access)
                own = web_access(world.services, role)  # the role's own ports
                ports.update({(n, "http"): int(entry["port"]) for n, entry in own.items()})
                service_clients.connect(device.vm.workdir, ports)
                if restored:  # the guest's configuration names fixed guest addresses
                    done[role] = {"connected": sorted(f"{n}:{k}" for n, k in ports)}
                    continue
                done[role] = service_clients.configure(device, access, world.timezone)
                web_done = service_clients.configure_web(device, own)
                done[role]["web"] = web_done["files"]
                if redactor is not None:
                    for secret in web_done.get("secrets", []):  # the chat client's token
                        redactor.add(secret)
            else:
                done[role] = {"skipped": "no guest forwarding to the world's services"}
        except RuntimeError as exc:
            raise InfraError(
                f"{role}: setting up the service clients failed: {exc}", device=role
            ) from exc
    return done
