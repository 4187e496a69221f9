"""What the Bank, Shop, Parcels and Chat apps share: the account, a local copy, errors shown.

Each app is a client of one of the world's HTTP services (the account comes from
the phone's provisioning file, :mod:`emulator.sim.accounts`). Screens are drawn
from the app's local copy of what the server last answered — a JSON file in the
app's data folder — because a screen is rebuilt for every tap and screenshot;
opening the app, pulling a list down and every action fetch it again. Actions go
to the server first, so the server's state (what checks read) is the truth. A
server that cannot be reached is a red line over the copy, or an error screen
with "Try again" when there is no copy; it never stops the phone.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import Text
from emulator.sim.webclient import ServiceUnreachable, call, error_text

SOFT = (95, 99, 104)
ERROR = (179, 38, 30)


class Refused(Exception):
    """The server answered a request with an error (shown to the user as it said it)."""


class WebApp(App):
    """An app on one web service: ``service`` names its account in the provisioning file."""

    service: ClassVar[str] = ""
    server_label: ClassVar[str] = ""  # "the bank" in "Can't reach the bank"

    def __init__(self, ui: Any) -> None:
        super().__init__(ui)
        self._cache: dict[str, Any] | None = None

    # -- account and server ------------------------------------------------------------
    @property
    def account(self) -> Any:
        sync = self.ctx.sync
        return None if sync is None else sync.accounts.web(self.service)

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> Any:
        """One request as the phone's account; raises :class:`Refused` or
        :class:`ServiceUnreachable` with a sentence for the screen."""
        account = self.account
        if account is None:
            raise Refused(f"No {self.label} account is set up on this phone")
        headers = {"Idempotency-Key": key} if key else None
        status, answer = call(account, method, path, body, headers=headers)
        if status not in ok:
            raise Refused(error_text(status, answer))
        return answer

    def refresh(self, entry: Entry) -> bool:
        """Fetch what the app's main lists show; False (and the reason in ``entry``) if not."""
        raise NotImplementedError

    def on_start(self, entry: Entry) -> None:
        """Opening the app fetches what it shows, as a real client does on launch."""
        if self.account is not None:
            self.refresh(entry)

    def on_resume(self, entry: Entry) -> None:
        """Back on a screen: what changed meanwhile (a message, a balance), as a live client
        shows it."""
        if self.account is not None:
            self.refresh(entry)

    def attempt(self, entry: Entry, work: Callable[[], Any]) -> bool:
        """Run ``work``; its failure is a sentence in ``entry`` (and False), never a crash."""
        try:
            work()
        except ServiceUnreachable as exc:
            entry["args"]["error"] = f"Can't reach {self.server_label}: {exc}"
            return False
        except Refused as exc:
            entry["args"]["error"] = str(exc)
            return False
        entry["args"].pop("error", None)
        return True

    @staticmethod
    def submit_key(entry: Entry, body: Any) -> str:
        """The ``Idempotency-Key`` of one form's submit: the same form sent again with the
        same content (a retry after a lost answer) repeats it, an edited form gets a new one."""
        nonce = entry["args"].setdefault("nonce", uuid.uuid4().hex)
        text = json.dumps(body, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(f"{nonce}\n{text}".encode()).hexdigest()[:32]

    # -- the local copy --------------------------------------------------------------------
    @property
    def cache_path(self) -> str:
        return f"/data/data/{self.package}/files/cache.json"

    @property
    def cache(self) -> dict[str, Any]:
        if self._cache is None:
            try:
                self._cache = json.loads(self.ctx.vfs.read_bytes(self.cache_path))
            except (OSError, ValueError):
                self._cache = {}
            if not isinstance(self._cache, dict):
                self._cache = {}
        return self._cache

    def remember(self, **parts: Any) -> None:
        """Update the local copy and write it (the app's data folder, as a real app's)."""
        self.cache.update(parts)
        folder = self.cache_path.rsplit("/", 1)[0]
        self.ctx.vfs.mkdir(folder)
        self.ctx.vfs.write_bytes(
            self.cache_path, json.dumps(self.cache, ensure_ascii=False).encode("utf-8"), 0o600
        )

    # -- what screens share ----------------------------------------------------------------
    def banner(self, entry: Entry) -> list[View]:
        error = entry["args"].get("error")
        return [Text(text=error, rid="error_banner", color=ERROR, size=14)] if error else []

    def notice(self, entry: Entry) -> list[View]:
        done = entry["args"].get("notice")
        return [Text(text=done, rid="notice", color=(24, 128, 56), size=14)] if done else []

    def unavailable(self, entry: Entry, title: str, retry: Callable[[], Any]) -> Screen | None:
        """The error screen when there is no account, or nothing to show and no server."""
        if self.account is None:
            note = self.empty_note(f"No {self.label} account is set up", rid="no_account")
            return Screen(self.toolbar(title, up=False), [note])
        error = entry["args"].get("error")
        if error and not self.cache.get("loaded"):
            body: list[View] = [
                Text(text=f"Can't load {self.label}", rid="error_title", size=20, bold=True),
                Text(text=error, rid="error_banner", color=ERROR, size=14),
                self.button("Try again", retry, rid="retry"),
            ]
            return Screen(self.toolbar(title, up=False), body)
        return None


def amount(value: Any, currency: str = "EUR") -> str:
    """``1234.5`` -> ``1,234.50 EUR``; negative amounts keep their sign."""
    try:
        return f"{float(value):,.2f} {currency}".strip()
    except (TypeError, ValueError):
        return f"{value} {currency}".strip()


def day(iso: Any) -> str:
    """The date part of an ISO time (``2026-03-14``), for list rows."""
    return str(iso or "")[:10]


def when(iso: Any) -> str:
    """``2026-03-14T09:30:00+01:00`` -> ``2026-03-14 09:30``."""
    text = str(iso or "")
    return text[:16].replace("T", " ")
