"""The phone's sync: its accounts, the Email app's mail, and DAVx5-style calendar/contacts.

One :class:`SyncManager` per phone (``ctx.sync``). It starts the syncs a real
phone starts: all of them on ``am broadcast -a android.intent.action.SYNC``
(what the controller sends at world start, after pushing the accounts file),
the calendar or contacts sync after a local change to the account's calendar or
address book (a content observer, as Android requests a sync on
``notifyChange``), and whatever an app's pull-to-refresh asks for. A local
change syncs before the write returns, so whoever made it (an app, ``content
insert`` over adb) finds it on the server afterwards. A server that cannot be
reached leaves ``last_error`` set; it never breaks the phone.
"""

from __future__ import annotations

import logging
from typing import Any

from emulator.sim.accounts import Accounts
from emulator.sim.davsync import CalendarSync, ContactsSync, DavSync, SyncError
from emulator.sim.mailstore import MailError, MailStore
from emulator.sim.providers import schema

log = logging.getLogger(__name__)

SYNC_ACTION = "android.intent.action.SYNC"


class SyncManager:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.accounts = Accounts(ctx.vfs)
        self.mail = MailStore(ctx.vfs, self.accounts, ctx.clock)
        self.dav: dict[str, DavSync] = {
            "calendar": CalendarSync(ctx, self.accounts),
            "contacts": ContactsSync(ctx, self.accounts),
        }
        self._by_db = {schema.CALENDAR_DB: "calendar", schema.CONTACTS_DB: "contacts"}

    def local_change(self, db: str) -> None:
        """A provider database changed outside a sync: sync that kind if it has an account."""
        kind = self._by_db.get(db)
        if kind is None or self.accounts.dav(kind) is None:
            return
        self.sync_kind(kind)

    def sync_kind(self, kind: str) -> str:
        """Sync one kind (``mail``, ``calendar``, ``contacts``); returns the error, or ''."""
        try:
            if kind == "mail":
                if self.accounts.mail is not None:
                    self.mail.sync()
            else:
                self.dav[kind].sync()
        except (SyncError, MailError) as exc:
            log.warning("sync %s failed: %s", kind, exc)
            return str(exc)
        except Exception as exc:  # a bug in a sync adapter stops that sync, never the phone
            log.exception("sync %s crashed", kind)
            return f"{type(exc).__name__}: {exc}"
        return ""

    def sync_all(self) -> dict[str, str]:
        """Every account's sync, one after the other; kind -> error ('' when it worked)."""
        return {kind: self.sync_kind(kind) for kind in ("mail", "calendar", "contacts")}

    def close(self) -> None:
        self.mail.close()
