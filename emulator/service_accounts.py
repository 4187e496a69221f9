"""Give an Android device the world's mail, calendar and contacts accounts.

The controller writes one provisioning file (:data:`ACCOUNTS_PATH`, format in
:mod:`emulator.sim.accounts`) and pushes it over adb, as a device-management
profile configures a phone's mail app and DAVx5, then sends the sync broadcast
so the apps fetch what the servers hold. A phone reaches the host's loopback at
``10.0.2.2`` (an AVD's alias, which the virtual phone maps the same way), so the
file names the world's real loopback ports behind that address.

The virtual phone's Email app and DAV sync read the file; for AVDs and attached
phones docs/service-clients.md names the open-source apps (Thunderbird for
Android/K-9, DAVx5, Etar) and what to enter into them — that path is not tested
here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from emulator.sim.accounts import ACCOUNTS_PATH, parse
from emulator.sim.net import HOST_ALIAS
from emulator.sim.sync import SYNC_ACTION

WEB_KINDS = ("bank", "shop", "parcels", "chat")  # the phone's Bank, Shop, Parcels, Chat apps


def accounts_file(access: Mapping[str, Mapping[str, Any]], host: str = HOST_ALIAS) -> bytes:
    """The provisioning file for ``access`` (service -> what a client needs).

    ``mail``: ``user``, ``password``, ``address``, ``name``, ``imap_port``, ``smtp_port``;
    ``calendar`` / ``contacts``: ``user``, ``password``, ``port``, ``path``;
    ``bank`` / ``shop`` / ``parcels`` / ``chat``: ``user``, ``password``, ``port``.
    """
    out: dict[str, Any] = {}
    mail = access.get("mail")
    if mail:
        out["mail"] = {
            "name": mail.get("name") or "",
            "address": mail["address"],
            "user": mail["user"],
            "password": mail["password"],
            "imap": {"host": host, "port": int(mail["imap_port"])},
            "smtp": {"host": host, "port": int(mail["smtp_port"])},
        }
    for kind in ("calendar", "contacts"):
        dav = access.get(kind)
        if dav:
            out[kind] = {
                "url": f"http://{host}:{int(dav['port'])}{dav['path']}",
                "user": dav["user"],
                "password": dav["password"],
            }
    for kind in WEB_KINDS:
        web = access.get(kind)
        if web:
            out[kind] = {
                "url": f"http://{host}:{int(web['port'])}",
                "user": web["user"],
                "password": web["password"],
            }
    data = json.dumps(out, ensure_ascii=False, indent=1).encode("utf-8")
    parse(data)  # what the phone will read must parse
    return data


def provision(
    device: Any, access: Mapping[str, Mapping[str, Any]], first_sync: bool = True
) -> dict[str, Any]:
    """Push the accounts to ``device`` (an AdbAndroidDevice) and run its first sync.

    Without ``first_sync`` only the accounts change (a phone restored from a world
    checkpoint already holds what its first sync fetched; its servers moved ports).
    Raises ``RuntimeError`` with the phone's answer when the first sync failed.
    """
    data = accounts_file(access)
    folder = ACCOUNTS_PATH.rsplit("/", 1)[0]
    device.shell(f"mkdir -p {folder}")
    device.push(data, ACCOUNTS_PATH, 0o600)
    if not first_sync:
        return {"accounts": sorted(json.loads(data)), "synced": False}
    answer = device.shell(f"am broadcast -a {SYNC_ACTION}")
    text = str(getattr(answer, "stdout", answer))
    if "result=0" not in text:
        raise RuntimeError(f"the phone's first sync failed: {text.strip()}")
    return {"accounts": sorted(json.loads(data)), "synced": True}
