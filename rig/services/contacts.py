"""The world's address books (CardDAV), controller side: health, seeding, and the reader.

:meth:`ContactsService.contacts` reads the persona's address book back over
CardDAV; each vCard becomes a :class:`Contact` with every number and address it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rig.services.base import Account
from rig.services.dav import DavService, plain

REPORT_CARDS = """<?xml version="1.0" encoding="utf-8"?>
<R:addressbook-query xmlns:D="DAV:" xmlns:R="urn:ietf:params:xml:ns:carddav">
  <D:prop><D:getetag/><R:address-data/></D:prop>
</R:addressbook-query>"""


@dataclass
class Contact:
    uid: str
    name: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    org: str = ""
    note: str = ""
    href: str = ""


def parse_cards(text: str, href: str = "") -> list[Contact]:
    import vobject

    out = []
    for card in vobject.readComponents(text):
        org = ""
        if hasattr(card, "org"):
            value = card.org.value
            org = ";".join(value) if isinstance(value, list) else str(value)
        out.append(
            Contact(
                uid=str(card.uid.value) if hasattr(card, "uid") else "",
                name=str(card.fn.value) if hasattr(card, "fn") else "",
                phones=[str(t.value) for t in card.contents.get("tel", [])],
                emails=[str(e.value) for e in card.contents.get("email", [])],
                org=org,
                note=str(card.note.value) if hasattr(card, "note") else "",
                href=href,
            )
        )
    return out


class ContactsService(DavService):
    """The persona's address book at ``/USER/contacts/`` on the world's Radicale."""

    name = "contacts"
    content_type = "text/vcard"
    report_body = REPORT_CARDS

    def _expected(self, plan: Any) -> dict[str, dict[str, Any]]:
        return {
            c.uid: {
                "name": c.name,
                "phones": list(c.phones),
                "emails": list(c.emails),
                "org": c.org,
                "note": c.note,
            }
            for c in plan.contacts
        }

    def _read_back(self) -> list[dict[str, Any]]:
        return [plain(c) for c in self.contacts()]

    def contacts(self, account: Account | None = None) -> list[Contact]:
        out: list[Contact] = []
        for obj in self.objects(account):
            out += parse_cards(obj.data, obj.href)
        return out
