"""The phone's accounts: which mail, calendar and contacts servers its apps use.

On a real phone a person (or a device-management profile) types the server,
user and password into the mail app and into DAVx5. The virtual phone takes
the same settings from one provisioning file, pushed over adb like any other
file (``adb push accounts.json /data/misc/clawrig/accounts.json``)::

    {"mail": {"name": "Maya Fischer", "address": "maya@example.org",
              "user": "maya", "password": "…",
              "imap": {"host": "10.0.2.2", "port": 40123},
              "smtp": {"host": "10.0.2.2", "port": 40124}},
     "calendar": {"url": "http://10.0.2.2:40125/maya/calendar/", "user": "maya",
                  "password": "…"},
     "contacts": {"url": "http://10.0.2.2:40126/maya/contacts/", "user": "maya",
                  "password": "…"},
     "bank": {"url": "http://10.0.2.2:40127", "user": "maya", "password": "…"},
     "chat": {"url": "http://10.0.2.2:40130", "user": "maya", "password": "…"}}

``bank``, ``shop``, ``parcels`` (HTTP Basic) and ``chat`` (a Matrix homeserver,
``m.login.password``) are what a person types into those apps' login screens:
the server's base URL, the user and the password.

Every key is optional: an absent service is an account the phone does not have.
The file is read again whenever it changed, so a push takes effect at once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ACCOUNTS_PATH = "/data/misc/clawrig/accounts.json"
# The account type DAVx5 gives the calendars and address books it syncs.
DAV_ACCOUNT_TYPE = "bitfire.at.davdroid"
# Accounts that are a base URL, a user and a password: the DAV collections and the web apps.
URL_KINDS = ("calendar", "contacts", "bank", "shop", "parcels", "chat")


@dataclass(frozen=True)
class MailAccount:
    address: str
    user: str
    password: str
    imap: tuple[str, int]
    smtp: tuple[str, int]
    name: str = ""


@dataclass(frozen=True)
class DavAccount:
    url: str
    user: str
    password: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    @property
    def path(self) -> str:
        path = urlsplit(self.url).path or "/"
        return path if path.endswith("/") else path + "/"


def _endpoint(value: Any, what: str) -> tuple[str, int]:
    if not isinstance(value, dict) or "host" not in value or "port" not in value:
        raise ValueError(f"{ACCOUNTS_PATH}: {what} needs host and port")
    return str(value["host"]), int(value["port"])


def parse(data: bytes) -> dict[str, Any]:
    """The accounts in a provisioning file; raises ValueError naming what is wrong."""
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{ACCOUNTS_PATH}: expected a JSON object")
    out: dict[str, Any] = {}
    mail = raw.get("mail")
    if mail:
        out["mail"] = MailAccount(
            address=str(mail["address"]),
            user=str(mail["user"]),
            password=str(mail["password"]),
            imap=_endpoint(mail.get("imap"), "mail.imap"),
            smtp=_endpoint(mail.get("smtp"), "mail.smtp"),
            name=str(mail.get("name") or ""),
        )
    for kind in URL_KINDS:
        dav = raw.get(kind)
        if dav:
            out[kind] = DavAccount(str(dav["url"]), str(dav["user"]), str(dav["password"]))
    return out


class Accounts:
    """The provisioning file of one phone, re-read when it changes."""

    def __init__(self, vfs: Any) -> None:
        self.vfs = vfs
        self._lock = threading.Lock()
        self._seen: bytes | None = None
        self._accounts: dict[str, Any] = {}

    def _load(self) -> dict[str, Any]:
        with self._lock:
            try:
                data = self.vfs.read_bytes(ACCOUNTS_PATH)
            except OSError:
                self._seen, self._accounts = None, {}
                return {}
            if data != self._seen:  # by content: the phone's frozen clock stamps every push alike
                try:
                    self._accounts = parse(data)
                except (ValueError, KeyError, TypeError):
                    self._accounts = {}  # a broken file is no account, never a dead phone
                self._seen = data
            return self._accounts

    @property
    def mail(self) -> MailAccount | None:
        return self._load().get("mail")

    def dav(self, kind: str) -> DavAccount | None:
        return self._load().get(kind)

    def web(self, kind: str) -> DavAccount | None:
        """The account of a web app (``bank``, ``shop``, ``parcels``, ``chat``), or None."""
        return self._load().get(kind)
