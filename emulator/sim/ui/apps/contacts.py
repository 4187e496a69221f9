"""Contacts: the people list, a contact's details, and the editor.

Reads and writes go through ContactsContract URIs, exactly the rows a real
editor produces: one ``raw_contacts`` row, then ``data`` rows for the name
(``data1`` display, ``data2`` given, ``data3`` family), phone and email.
"""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

from emulator.sim.accounts import DAV_ACCOUNT_TYPE
from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ListRow, Text

AUTH = "content://com.android.contacts"
MIME_NAME = "vnd.android.cursor.item/name"
MIME_PHONE = "vnd.android.cursor.item/phone_v2"
MIME_EMAIL = "vnd.android.cursor.item/email_v2"
AVATARS = [
    (0, 137, 123),
    (142, 36, 170),
    (229, 57, 53),
    (30, 136, 229),
    (244, 81, 30),
    (67, 160, 71),
]


def avatar(key: Any) -> tuple[int, int, int]:
    # crc32, not hash(): str hashes change with every process, and so would the screens.
    return AVATARS[zlib.crc32(str(key).encode()) % len(AVATARS)] if key is not None else AVATARS[0]


class ContactsApp(App):
    package = "com.android.contacts"
    label = "Contacts"
    color = (26, 115, 232)
    apk = "/product/app/Contacts/Contacts.apk"
    item_screens: ClassVar[frozenset[str]] = frozenset({"detail"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".activities.PeopleActivity",
        "detail": ".quickcontact.QuickContactActivity",
        "edit": ".activities.ContactEditorActivity",
    }

    # -- data -----------------------------------------------------------------------
    def people(self) -> list[dict[str, Any]]:
        p = self.ctx.providers
        raws = p.query(f"{AUTH}/raw_contacts", ["_id", "display_name"], "deleted=0")
        phones: dict[Any, str] = {}
        for row in p.query(f"{AUTH}/data", ["raw_contact_id", "data1"], "mimetype=?", [MIME_PHONE]):
            phones.setdefault(row["raw_contact_id"], row["data1"] or "")
        people = [
            {
                "id": r["_id"],
                "name": r["display_name"] or "(No name)",
                "phone": phones.get(r["_id"], ""),
            }
            for r in raws
        ]
        return sorted(people, key=lambda r: (str(r["name"]).casefold(), r["id"]))

    def details(self, raw_id: int) -> dict[str, str]:
        rows = self.ctx.providers.query(
            f"{AUTH}/data", ["mimetype", "data1", "data2", "data3"], "raw_contact_id=?", [raw_id]
        )
        out = {"name": "", "first": "", "last": "", "phone": "", "email": ""}
        for r in rows:
            if r["mimetype"] == MIME_NAME and not out["name"]:
                out["name"] = r["data1"] or ""
                out["first"], out["last"] = r["data2"] or "", r["data3"] or ""
            elif r["mimetype"] == MIME_PHONE and not out["phone"]:
                out["phone"] = r["data1"] or ""
            elif r["mimetype"] == MIME_EMAIL and not out["email"]:
                out["email"] = r["data1"] or ""
        if out["name"] and not (out["first"] or out["last"]):
            out["first"] = out["name"]
        return out

    def save(self, entry: Entry) -> None:
        first, last = self.form(entry, "first_name").strip(), self.form(entry, "last_name").strip()
        phone, email = self.form(entry, "phone").strip(), self.form(entry, "email").strip()
        raw_id = entry["args"].get("raw_id")
        if raw_id is None and not (first or last or phone or email):
            self.ui.back()  # Android discards an empty new contact
            return
        p = self.ctx.providers
        if raw_id is None:
            # A new contact goes to the synced account when the phone has one (as the
            # Contacts app's default account), else it stays on the phone.
            dav = self.ctx.sync.accounts.dav("contacts") if self.ctx.sync is not None else None
            owner = (dav.user, DAV_ACCOUNT_TYPE) if dav is not None else (None, None)
            uri = p.insert(
                f"{AUTH}/raw_contacts", {"account_name": owner[0], "account_type": owner[1]}
            )
            raw_id = int(uri.rsplit("/", 1)[1])
        name = " ".join(x for x in (first, last) if x)
        self._put(
            raw_id,
            MIME_NAME,
            {"data1": name, "data2": first or None, "data3": last or None},
            bool(name),
        )
        self._put(raw_id, MIME_PHONE, {"data1": phone, "data2": 2}, bool(phone))
        self._put(raw_id, MIME_EMAIL, {"data1": email, "data2": 1}, bool(email))
        self.ui.stack.pop()
        if entry["args"].get("raw_id") is None:
            self.ui.push(self, "detail", raw_id=raw_id)

    def _put(self, raw_id: int, mime: str, values: dict[str, Any], keep: bool) -> None:
        p = self.ctx.providers
        where, args = "raw_contact_id=? AND mimetype=?", [raw_id, mime]
        exists = p.query(f"{AUTH}/data", ["_id"], where, args)
        if not keep:
            if exists:
                p.delete(f"{AUTH}/data", where, args)
        elif exists:
            p.update(f"{AUTH}/data/{exists[0]['_id']}", values)
        else:
            p.insert(f"{AUTH}/data", {"raw_contact_id": raw_id, "mimetype": mime, **values})

    def delete(self, raw_id: int) -> None:
        self.ctx.providers.delete(f"{AUTH}/raw_contacts/{raw_id}")
        while self.ui.top["pkg"] == self.package and self.ui.top["screen"] != "main":
            self.ui.stack.pop()

    # -- screens -----------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        rows: list[View] = [self.field(entry, "search_view", "", hint="Search contacts")]
        query = self.form(entry, "search_view").strip().casefold()
        qdigits = "".join(ch for ch in query if ch.isdigit())
        for person in self.people():
            if (
                query
                and query not in str(person["name"]).casefold()
                and not (
                    qdigits and qdigits in "".join(ch for ch in person["phone"] if ch.isdigit())
                )
            ):
                continue
            rows.append(
                ListRow(
                    title=person["name"],
                    subtitle=person["phone"],
                    avatar=avatar(person["id"]),
                    rid="contact",
                    on_click=lambda rid=person["id"]: self.ui.push(self, "detail", raw_id=rid),
                )
            )
        if len(rows) == 1:
            rows.append(self.empty_note("No matches" if query else "No contacts yet"))
        screen = Screen(
            self.toolbar("Contacts", up=False),
            rows,
            fab=self.fab("Add contact", lambda: self.ui.push(self, "edit")),
        )
        if self.ctx.sync is not None:
            screen.on_refresh = lambda: self.ctx.sync.sync_kind("contacts")
        return screen

    def screen_detail(self, entry: Entry) -> Screen:
        raw_id = entry["args"]["raw_id"]
        d = self.details(raw_id)
        body: list[View] = [
            Text(
                text=d["name"] or d["phone"] or "(No name)",
                rid="large_title",
                size=28,
                bold=True,
                vpad=24,
            )
        ]
        if d["phone"]:
            body.append(
                ListRow(
                    title=d["phone"],
                    subtitle="Mobile",
                    rid="phone",
                    on_click=lambda: self._message(d["phone"]),
                )
            )
            body.append(
                self.button("Send message", lambda: self._message(d["phone"]), rid="send_message")
            )
        if d["email"]:
            body.append(ListRow(title=d["email"], subtitle="Email", rid="email"))
        ask_delete, dialog = self.delete_dialog(
            entry, "Delete this contact?", d["name"] or d["phone"], lambda: self.delete(raw_id)
        )
        return Screen(
            self.toolbar(
                "Contact",
                actions=[
                    ("Edit", lambda: self.ui.push(self, "edit", raw_id=raw_id)),
                    ("Delete", ask_delete),
                ],
            ),
            body,
            dialog=dialog,
        )

    def _message(self, number: str) -> None:
        messages = self.ui.apps["com.google.android.apps.messaging"]
        self.ui.start(messages.package)
        self.ui.push(messages, "thread", address=number)

    def screen_edit(self, entry: Entry) -> Screen:
        raw_id = entry["args"].get("raw_id")
        d = self.details(raw_id) if raw_id is not None else {}
        body: list[View] = [
            self.field(entry, "first_name", "First name", d.get("first", "")),
            self.field(entry, "last_name", "Last name", d.get("last", "")),
            self.field(entry, "phone", "Phone", d.get("phone", "")),
            self.field(
                entry, "email", "Email", d.get("email", ""), on_submit=lambda: self.save(entry)
            ),
        ]
        title = "Edit contact" if raw_id is not None else "Create contact"
        return Screen(self.toolbar(title, actions=[("Save", lambda: self.save(entry))]), body)
