"""Events folded into what the world's services hold: mailboxes, a calendar, an address book.

When a task declares a service (``services: [mail, calendar, contacts]``), every
event of that service's kinds goes to it, whichever device the stream aimed it
at; both devices then see it through their clients. Otherwise events go to the
devices as before, and events aimed at an undeclared ``service:…`` are skipped.

- mail: each message as RFC 5322 bytes with CRLF line ends (what IMAP returns),
  non-ASCII headers as RFC 2047 encoded words, the body as UTF-8 MIME; received
  mail in INBOX (``\\Seen`` when read), sent mail in Sent. Header fields are one
  line: line breaks in a subject or address are unfolded to spaces.
- calendar: one VCALENDAR with a VEVENT per entry (moved ones at their new time,
  cancelled ones not at all); single entries in UTC, series in the task's zone
  (TZID with a VTIMEZONE, so they keep their wall-clock time across DST changes),
  all-day entries as dates, series rules, attendees; DTSTAMP is the world's now.
- contacts: one vCard 3.0 per contact (the last edit wins), every number and address.

- bank: an account per ``account`` name, every transaction with its balance after
  (the stream's when given, else counted from an opening balance that makes the
  first given balance agree), and every counterparty paid from the account as a
  known payee (a transfer to anyone else needs the SMS code); each
  ``bank.standing_order`` as a standing order to a known payee (its next date is
  after now: the bank books it when world time gets there).
- shop: a product per (shop, item) of price alerts and order lines, every alert's
  price in its history (the last is the current one) and a price alert per
  alerted product; orders with their lines at the prices paid.
- parcels: a shipment per tracking number with every tracking event, two
  delivery slots around its ETA, and the carrier's pickup points.

- chat: a room per ``room`` name whose members are everyone who speaks in it
  (outgoing messages are the persona's), every message at its own time.

Web services and chat store text as given (JSON and SQLite TEXT): nothing is lost.

Text values cannot hold a carriage return in iCalendar or vCard: ``\\r\\n`` and lone
``\\r`` become a line break (``\\n``), and a ``"`` in an attendee's name becomes ``'``
(parameter values cannot quote it); both are listed in ``losses``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from tasks import events as ev
from tasks.compile_edits import EDIT_HANDLERS
from tasks.compile_linux import one_line

# Which service holds which event kinds.
KIND_SERVICE = {
    "mail.received": "mail",
    "mail.sent": "mail",
    "calendar.created": "calendar",
    "calendar.moved": "calendar",
    "calendar.cancelled": "calendar",
    "contact.added": "contacts",
    "contact.edited": "contacts",
    "bank.transaction": "bank",
    "price.alert": "shop",
    "shop.order": "shop",
    "parcel.update": "parcels",
    "chat.message": "chat",
}
_SMTP = policy.SMTP  # CRLF line ends, RFC 2047 for non-ASCII header text


@dataclass(frozen=True)
class SeedMail:
    folder: str
    raw: bytes
    when: datetime
    flags: tuple[str, ...]
    message_id: str


@dataclass
class MailPlan:
    user: str = ""
    messages: list[SeedMail] = field(default_factory=list)


@dataclass(frozen=True)
class SeedEvent:
    """What the calendar must read back for one entry (times aware, in the task's zone)."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    all_day: bool
    location: str
    description: str
    rrule: str
    attendees: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SeedContact:
    uid: str
    name: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    org: str
    note: str


@dataclass
class DavPlan:
    """One multi-object file for one collection, and what it must read back as."""

    service: str
    text: str = ""
    events: list[SeedEvent] = field(default_factory=list)
    contacts: list[SeedContact] = field(default_factory=list)


def service_of(event: ev.EventBase, declared: tuple[str, ...]) -> str | None:
    """The declared service ``event`` goes to, or None when it goes to a device (or nowhere)."""
    if event.target.startswith(ev.SERVICE_PREFIX):
        name = event.target[len(ev.SERVICE_PREFIX) :]
        return name if name in declared else None
    name = KIND_SERVICE.get(event.kind)
    return name if name in declared else None


def _text(value: str) -> str:
    """An iCalendar/vCard TEXT value: CR folded into LF, then escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 sequence (RFC 5545 3.1)."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def _lines(lines: list[str]) -> str:
    return "".join(_fold(line) + "\r\n" for line in lines)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def vtimezone(tz: ZoneInfo, first: datetime, last: datetime) -> list[str]:
    """A VTIMEZONE for ``tz`` with every UTC-offset change between ``first`` and ``last``
    (a TZID with no VTIMEZONE is not valid iCalendar, and servers are slow to guess it)."""
    lo = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    hi = last.astimezone(UTC) + timedelta(days=1)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz.key}"]

    def observance(at_utc: datetime, before: timedelta | None) -> list[str]:
        local = at_utc.astimezone(tz)
        kind = "DAYLIGHT" if local.dst() else "STANDARD"
        start = (at_utc + (before if before is not None else local.utcoffset())).replace(
            tzinfo=None
        )
        return [
            f"BEGIN:{kind}",
            f"DTSTART:{start:%Y%m%dT%H%M%S}",
            f"TZOFFSETFROM:{_offset(before if before is not None else local.utcoffset())}",
            f"TZOFFSETTO:{_offset(local.utcoffset())}",
            f"TZNAME:{_text(local.tzname() or tz.key)}",
            f"END:{kind}",
        ]

    lines += observance(lo, None)
    t, prev = lo, lo.astimezone(tz).utcoffset()
    while t < hi:
        nxt = t + timedelta(days=1)
        if nxt.astimezone(tz).utcoffset() != prev:
            h = t
            while h.astimezone(tz).utcoffset() == prev:
                h += timedelta(minutes=15)
            lines += observance(h, prev)
            prev = h.astimezone(tz).utcoffset()
        t = nxt
    lines.append("END:VTIMEZONE")
    return lines


def _param(value: str) -> str:
    value = one_line(value).replace('"', "'")
    return f'"{value}"'


@dataclass
class WebPlan:
    """Rows per table of one web service (``user`` "" is the persona's, filled at seeding)."""

    service: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedChat:
    """One message; ``sender`` None is the persona."""

    id: str
    t: datetime
    room: str
    sender: str | None
    body: str


@dataclass
class ChatPlan:
    """Rooms (name -> the other members, by name) and their history, oldest first."""

    rooms: dict[str, list[str]] = field(default_factory=dict)
    messages: list[SeedChat] = field(default_factory=list)


@dataclass
class ServiceFold:
    tz: ZoneInfo
    now: datetime
    declared: tuple[str, ...]
    mail: list[SeedMail] = field(default_factory=list)
    events: dict[str, ev.CalendarCreated] = field(default_factory=dict)
    contacts: dict[str, ev.ContactAdded] = field(default_factory=dict)
    bank: list[ev.BankTransaction] = field(default_factory=list)
    standing: list[ev.BankStandingOrder] = field(default_factory=list)
    alerts: list[ev.PriceAlert] = field(default_factory=list)
    orders: dict[str, ev.ShopOrder] = field(default_factory=dict)
    parcels: list[ev.ParcelUpdate] = field(default_factory=list)
    chat: ChatPlan = field(default_factory=ChatPlan)
    losses: list[str] = field(default_factory=list)

    def add(self, e: ev.EventBase) -> None:
        handler = _HANDLERS.get(type(e))
        if handler is None:
            raise ValueError(f"event {e.id} ({e.kind}): no service holds it")
        handler(self, e)

    def finish(self) -> dict[str, MailPlan | DavPlan | WebPlan | ChatPlan]:
        plans: dict[str, MailPlan | DavPlan | WebPlan | ChatPlan] = {}
        if "mail" in self.declared:
            plans["mail"] = MailPlan(messages=list(self.mail))
        if "calendar" in self.declared:
            plans["calendar"] = self._calendar()
        if "contacts" in self.declared:
            plans["contacts"] = self._contacts()
        if "bank" in self.declared:
            plans["bank"] = bank_plan(self.bank, self.tz, self.standing)
        if "shop" in self.declared:
            plans["shop"] = shop_plan(self.alerts, list(self.orders.values()), self.tz)
        if "parcels" in self.declared:
            plans["parcels"] = parcels_plan(self.parcels, self.tz)
        if "chat" in self.declared:
            plans["chat"] = self.chat
        return plans

    def _calendar(self) -> DavPlan:
        plan = DavPlan("calendar")
        stamp = self.now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//clawrig//seed//EN"]
        series = [c for c in self.events.values() if c.rrule and not c.all_day]
        if series:
            first = min(c.start for c in series)
            lines += vtimezone(self.tz, first, max(c.end for c in series) + timedelta(days=400))
        for c in self.events.values():
            start, end = c.start.astimezone(self.tz), c.end.astimezone(self.tz)
            if c.all_day:
                start = datetime.combine(start.date(), datetime.min.time(), self.tz)
                end = datetime.combine(end.date(), datetime.min.time(), self.tz)
                if end <= start:
                    end = start + timedelta(days=1)
                span = [
                    f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
                    f"DTEND;VALUE=DATE:{end:%Y%m%d}",
                ]
            elif c.rrule:  # a series keeps its wall-clock time across DST changes
                span = [
                    f"DTSTART;TZID={self.tz.key}:{start:%Y%m%dT%H%M%S}",
                    f"DTEND;TZID={self.tz.key}:{end:%Y%m%dT%H%M%S}",
                ]
            else:  # one instant: UTC is exact and needs no VTIMEZONE
                span = [
                    f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                    f"DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                ]
            lines += ["BEGIN:VEVENT", f"UID:{_text(c.event_id)}", f"DTSTAMP:{stamp}", *span]
            lines.append(f"SUMMARY:{_text(c.title)}")
            if c.location:
                lines.append(f"LOCATION:{_text(c.location)}")
            if c.description:
                lines.append(f"DESCRIPTION:{_text(c.description)}")
            if c.rrule:
                lines.append(f"RRULE:{one_line(c.rrule)}")
            for a in c.attendees:
                if '"' in a.name:
                    self.losses.append(f"calendar: {c.event_id}: '\"' in an attendee name")
                lines.append(f"ATTENDEE;CN={_param(a.name)}:mailto:{one_line(a.email)}")
            for minutes in sorted(set(c.reminders)):
                lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:-PT{minutes}M"]
                lines += [f"DESCRIPTION:{_text(c.title)}", "END:VALARM"]
            lines.append("END:VEVENT")
            plan.events.append(
                SeedEvent(
                    uid=c.event_id,
                    summary=_plain(c.title),
                    start=start,
                    end=end,
                    all_day=c.all_day,
                    location=_plain(c.location or ""),
                    description=_plain(c.description or ""),
                    rrule=one_line(c.rrule or ""),
                    attendees=tuple(
                        (one_line(a.name).replace('"', "'"), one_line(a.email)) for a in c.attendees
                    ),
                )
            )
        lines.append("END:VCALENDAR")
        plan.text = _lines(lines)
        return plan

    def _contacts(self) -> DavPlan:
        plan = DavPlan("contacts")
        blocks = []
        for c in self.contacts.values():
            lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{_text(c.contact_id)}"]
            lines += [f"FN:{_text(c.name)}", f"N:;{_text(c.name)};;;"]
            for i, number in enumerate(c.phones):
                lines.append(f"TEL;TYPE={'CELL' if i == 0 else 'VOICE'}:{_text(one_line(number))}")
            for address in c.emails:
                lines.append(f"EMAIL;TYPE=INTERNET:{_text(one_line(address))}")
            if c.org:
                lines.append(f"ORG:{_text(c.org)}")
            if c.note:
                lines.append(f"NOTE:{_text(c.note)}")
            lines.append("END:VCARD")
            blocks.append(_lines(lines))
            plan.contacts.append(
                SeedContact(
                    uid=c.contact_id,
                    name=_plain(c.name),
                    phones=tuple(one_line(p) for p in c.phones),
                    emails=tuple(one_line(a) for a in c.emails),
                    org=_plain(c.org or ""),
                    note=_plain(c.note or ""),
                )
            )
        plan.text = "".join(blocks)
        return plan


def _plain(value: str) -> str:
    """What a TEXT value reads back as (carriage returns become line feeds)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _mail(f: ServiceFold, e: ev.MailReceived | ev.MailSent) -> None:
    received = isinstance(e, ev.MailReceived)
    msg = EmailMessage(policy=_SMTP)
    try:
        msg["From"] = one_line(e.sender)
        msg["To"] = one_line(", ".join(e.to))
        if e.cc:
            msg["Cc"] = one_line(", ".join(e.cc))
        msg["Subject"] = one_line(e.subject)
        msg["Date"] = format_datetime(e.t.astimezone(f.tz))
        msg["Message-ID"] = one_line(e.message_id)
        if e.in_reply_to:
            msg["In-Reply-To"] = one_line(e.in_reply_to)
            msg["References"] = one_line(e.in_reply_to)
        msg.set_content(e.body, cte="base64" if _needs_base64(e.body) else None)
        raw = msg.as_bytes()
    except (HeaderParseError, ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"event {e.id} ({e.kind}): cannot be a mail message: {exc}") from None
    folder = "INBOX" if received else "Sent"
    seen = e.read if isinstance(e, ev.MailReceived) else True
    f.mail.append(SeedMail(folder, raw, e.t, ("\\Seen",) if seen else (), one_line(e.message_id)))


def _needs_base64(body: str) -> bool:
    """Bodies a quoted-printable round trip would change (lone CRs) go as base64."""
    return "\r" in body


def _minor(value: Decimal) -> int:
    return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _iso(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).isoformat(timespec="seconds")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"


def _hid(prefix: str, *parts: str) -> str:
    """A stable id for a name (any text) that is safe in a URL path."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{_slug(parts[-1])[:24]}-{digest}"


def iban(name: str) -> str:
    """A well-formed made-up IBAN for a name (DE + check digits + 18 digits)."""
    digits = str(int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16))[:18].rjust(18, "0")
    check = 98 - int(digits + "131400") % 97  # ISO 13616: "DE00" moved to the end
    return f"DE{check:02d}{digits}"


def bank_plan(
    txns: list[ev.BankTransaction],
    tz: ZoneInfo,
    standing: list[ev.BankStandingOrder] = (),  # type: ignore[assignment]
) -> WebPlan:
    plan = WebPlan("bank")
    accounts: dict[str, dict[str, Any]] = {}
    payees: dict[tuple[str, str], dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for e in txns:
        acc_id = _hid("acc", e.account)
        acc = accounts.get(acc_id)
        amount = _minor(e.amount)
        if acc is None:
            opening = _minor(e.balance) - amount if e.balance is not None else 0
            acc = accounts[acc_id] = {
                "id": acc_id,
                "user": "",
                "name": e.account,
                "iban": iban(e.account),
                "currency": e.currency,
                "balance_cents": opening,
            }
        balance = _minor(e.balance) if e.balance is not None else acc["balance_cents"] + amount
        acc["balance_cents"] = balance
        rows.append(
            {
                "id": e.id or _hid("txn", acc_id, e.t.isoformat(), e.counterparty, str(len(rows))),
                "account_id": acc_id,
                "booked_at": _iso(e.t, tz),
                "amount_cents": amount,
                "currency": e.currency,
                "counterparty": e.counterparty,
                "reference": e.reference,
                "balance_cents": balance,
                "origin": "seed",
            }
        )
        if amount < 0 and (acc_id, e.counterparty) not in payees:
            payees[(acc_id, e.counterparty)] = {
                "id": _hid("pay", e.counterparty),
                "user": "",
                "name": e.counterparty,
                "iban": iban(e.counterparty),
                "created_at": _iso(e.t, tz),
                "verified": 1,
            }
    orders = []
    for e in standing:
        acc_id = _hid("acc", e.account)
        if acc_id not in accounts:  # an account the stream never booked on: empty
            accounts[acc_id] = {"id": acc_id, "user": "", "name": e.account,
                                "iban": iban(e.account), "currency": e.currency,
                                "balance_cents": 0}  # fmt: skip
        payee = payees.setdefault(
            (acc_id, e.payee),
            {"id": _hid("pay", e.payee), "user": "", "name": e.payee, "iban": iban(e.payee),
             "created_at": _iso(e.t, tz), "verified": 1},
        )  # fmt: skip
        if e.iban:
            payee["iban"] = e.iban
        next_date = e.next_date.isoformat()
        orders.append(
            {
                "id": e.id or _hid("so", acc_id, e.payee, next_date, str(len(orders))),
                "user": "",
                "account_id": acc_id,
                "payee_id": payee["id"],
                "amount_cents": _minor(e.amount),
                "currency": e.currency,
                "reference": e.reference,
                "interval": e.interval,
                "next_date": next_date,
                "created_at": _iso(e.t, tz),
                "cancelled_at": None,
                "first_date": (e.first_date or e.next_date).isoformat(),
                "end_date": e.end_date.isoformat() if e.end_date else None,
            }
        )
    unique = {p["id"]: p for p in payees.values()}
    plan.tables = {
        "accounts": list(accounts.values()),
        "transactions": rows,
        "payees": list(unique.values()),
    }
    if orders:
        plan.tables["standing_orders"] = orders
    return plan


def shop_plan(alerts: list[ev.PriceAlert], orders: list[ev.ShopOrder], tz: ZoneInfo) -> WebPlan:
    plan = WebPlan("shop")
    products: dict[str, dict[str, Any]] = {}
    prices: list[dict[str, Any]] = []
    firsts: dict[str, int] = {}
    fired: dict[str, str] = {}

    def product(shop: str, item: str, currency: str, price: int, url: str) -> dict[str, Any]:
        pid = _hid("prod", shop, item)
        if pid not in products:
            products[pid] = {
                "id": pid,
                "name": item,
                "shop": shop,
                "url": url,
                "currency": currency,
                "price_cents": price,
                "stock": 20,
            }
        return products[pid]

    for e in alerts:
        price = _minor(e.price)
        p = product(e.shop, e.item, e.currency, price, e.url)
        p["price_cents"], p["url"] = price, e.url
        prices.append(
            {
                "id": e.id or f"{p['id']}-{len(prices)}",
                "product_id": p["id"],
                "at": _iso(e.t, tz),
                "price_cents": price,
            }
        )
        target = firsts.setdefault(p["id"], price)
        if price < target:
            fired[p["id"]] = _iso(e.t, tz)
    order_rows, lines = [], []
    for o in orders:
        total = 0
        for i, line in enumerate(o.lines):
            paid = _minor(line.price)
            p = product(o.shop, line.name, o.currency, paid, "")
            lines.append(
                {
                    "id": f"{o.order_id}-{i}",
                    "order_id": o.order_id,
                    "product_id": p["id"],
                    "name": line.name,
                    "qty": line.qty,
                    "price_cents": paid,
                }
            )
            total += paid * line.qty
        order_rows.append(
            {
                "id": o.order_id,
                "user": "",
                "created_at": _iso(o.t, tz),
                "status": o.status,
                "total_cents": total,
                "currency": o.currency,
                "origin": "seed",
            }
        )
    alert_rows = [
        {
            "id": f"alert-{pid[5:]}",
            "user": "",
            "product_id": pid,
            "target_cents": target,
            "created_at": prices[0]["at"],
            "triggered_at": fired.get(pid),
        }
        for pid, target in firsts.items()
    ]
    plan.tables = {
        "products": list(products.values()),
        "prices": prices,
        "orders": order_rows,
        "order_lines": lines,
        "alerts": alert_rows,
    }
    return plan


PICKUP_POINTS = [
    {"id": "pp-kiosk", "name": "Kiosk am Markt", "address": "Marktplatz 3", "hours": "Mo-Sa 7-20"},
    {
        "id": "pp-locker",
        "name": "Parcel locker Bahnhof",
        "address": "Bahnhofstr. 1",
        "hours": "24/7",
    },
    {
        "id": "pp-post",
        "name": "Post office Lindenallee",
        "address": "Lindenallee 40",
        "hours": "Mo-Fr 9-18, Sa 9-12",
    },
]


def parcels_plan(updates: list[ev.ParcelUpdate], tz: ZoneInfo) -> WebPlan:
    plan = WebPlan("parcels")
    ships: dict[str, dict[str, Any]] = {}
    tracking, slots = [], []
    for u in updates:
        sid = u.tracking
        ship = ships.get(sid)
        if ship is None:
            ship = ships[sid] = {
                "id": sid,
                "user": "",
                "carrier": u.carrier,
                "sender": u.sender,
                "description": u.description,
                "status": u.status,
                "eta": None,
                "slot_id": None,
                "deliver_to": "home",
                "redirect": None,
                "order_ref": u.order_id,
            }
        ship["status"] = u.status
        for key in ("sender", "description"):
            if getattr(u, key):
                ship[key] = getattr(u, key)
        if u.eta is not None:
            ship["eta"] = _iso(u.eta, tz)
        tracking.append(
            {
                "id": u.id or f"{sid}-{len(tracking)}",
                "shipment_id": sid,
                "at": _iso(u.t, tz),
                "status": u.status,
                "location": u.location,
                "text": u.text,
            }
        )
    for ship in ships.values():
        if ship["eta"] and ship["status"] not in ("delivered", "failed"):
            eta = datetime.fromisoformat(ship["eta"])
            for i, (a, b) in enumerate(((8, 12), (14, 18))):
                day = eta.replace(hour=a, minute=0, second=0)
                slots.append(
                    {
                        "id": f"{ship['id']}-slot{i + 1}",
                        "shipment_id": ship["id"],
                        "start": day.isoformat(timespec="seconds"),
                        "end": day.replace(hour=b).isoformat(timespec="seconds"),
                    }
                )
    plan.tables = {
        "shipments": list(ships.values()),
        "tracking": tracking,
        "slots": slots,
        "pickup_points": [dict(p) for p in PICKUP_POINTS],
    }
    return plan


def _bank(f: ServiceFold, e: ev.BankTransaction) -> None:
    f.bank.append(e)


def _standing(f: ServiceFold, e: ev.BankStandingOrder) -> None:
    f.standing.append(e)


def _price(f: ServiceFold, e: ev.PriceAlert) -> None:
    f.alerts.append(e)


def _order(f: ServiceFold, e: ev.ShopOrder) -> None:
    # A later event for the same order is its newer state; the order dates from the first.
    first = f.orders.get(e.order_id)
    f.orders[e.order_id] = e if first is None else e.model_copy(update={"t": first.t})


def _parcel(f: ServiceFold, e: ev.ParcelUpdate) -> None:
    f.parcels.append(e)


def _chat(f: ServiceFold, e: ev.ChatMessage) -> None:
    members = f.chat.rooms.setdefault(e.room, [])
    sender = None if e.outgoing else e.sender
    if sender is not None and sender not in members:
        members.append(sender)
    f.chat.messages.append(
        SeedChat(e.id or f"chat-{len(f.chat.messages)}", e.t, e.room, sender, e.body)
    )


_HANDLERS = {
    **EDIT_HANDLERS,
    ev.BankTransaction: _bank,
    ev.BankStandingOrder: _standing,
    ev.PriceAlert: _price,
    ev.ShopOrder: _order,
    ev.ParcelUpdate: _parcel,
    ev.ChatMessage: _chat,
    ev.MailReceived: _mail,
    ev.MailSent: _mail,
}
