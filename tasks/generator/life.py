"""The day-by-day simulation that turns a persona into events.

Each aspect of life (messages, mail, work, money …) draws from its own RNG
derived from the seed and the aspect's name, so turning one knob does not
reshuffle everything else, and the same inputs always give the same stream.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tasks import events as E
from tasks.generator import words as W
from tasks.generator.lang import PHRASES
from tasks.generator.locale import local_number, plumber
from tasks.generator.text import TextMaker, money, show_money, slug
from tasks.persona import WEEKDAYS, Bill, Person, Persona

KIND_OF = {cls: kind for kind, cls in E.KINDS.items()}
# (event id, title, start, end) of a one-off calendar entry
Appointment = tuple[str, str, datetime, datetime]


@dataclass
class Thread:
    """A mail conversation that continues over days or weeks."""

    subject: str
    colleague: Person
    remaining: int
    last_id: str | None = None
    count: int = 0


@dataclass
class Life:
    persona: Persona
    seed: int
    now: datetime
    days: int
    phone: str | None
    laptop: str | None
    services: tuple[str, ...] | None = None  # None: every service
    density: float = 1.0
    noise: float = 1.0
    conflicts: int = 3
    out: list[E.EventBase] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.persona.timezone)
        self.local_now = self.now.astimezone(self.tz)
        self.start = self.local_now.date() - timedelta(days=self.days)
        self.begin = datetime.combine(self.start, time(0, 0), tzinfo=self.tz)
        self.currency = self.persona.bank.currency
        self.lang = PHRASES[self.persona.language]
        self.work_email = (
            ".".join(self.persona.name.lower().split()) + "@" + self.persona.employer.domain
        )
        self._serial = 0

    # -- plumbing ---------------------------------------------------------------
    def rng(self, aspect: str) -> random.Random:
        return random.Random(f"clawrig/{self.seed}/{aspect}")

    def uid(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial:05d}"

    def service(self, name: str) -> str | None:
        """The target for a service-only event, or None when the world has no such service."""
        return f"service:{name}" if self.services is None or name in self.services else None

    def at(
        self,
        day: date,
        hhmm: str | tuple[int, int],
        jitter: int = 0,
        rng: random.Random | None = None,
    ) -> datetime:
        h, m = (int(x) for x in hhmm.split(":")) if isinstance(hhmm, str) else hhmm
        when = datetime.combine(day, time(h, m), tzinfo=self.tz)
        if jitter and rng is not None:
            when += timedelta(minutes=rng.randint(-jitter, jitter))
        return when

    def emit(self, cls: type[E.EventBase], t: datetime, target: str | None, **fields: Any) -> None:
        """Record an event if it has a target and happens inside the window."""
        if target is None or t > self.now or t < self.begin:
            return
        self.out.append(cls(t=t, kind=KIND_OF[cls], target=target, **fields))

    def mail_in(
        self,
        t: datetime,
        prefix: str,
        domain: str,
        sender: str,
        subject: str,
        body: str,
        **fields: Any,
    ) -> None:
        """A mail arriving on the laptop, addressed to the persona unless ``to`` says otherwise."""
        fields.setdefault("to", [self.persona.email])
        self.emit(
            E.MailReceived,
            t,
            self.laptop,
            message_id=f"<{self.uid(prefix)}@{domain}>",
            sender=sender,
            subject=subject,
            body=body,
            **fields,
        )

    def days_iter(self) -> Iterator[date]:
        day = self.start
        while day <= self.local_now.date():
            yield day
            day += timedelta(days=1)

    def workday(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.persona.routines.workdays

    def count(self, rng: random.Random, lo: int, hi: int, knob: float | None = None) -> int:
        k = self.density if knob is None else knob
        return max(0, round(rng.randint(lo, hi) * k))

    # -- the whole life ---------------------------------------------------------
    def aspects(self) -> list[tuple[str, Callable[[], None]]]:
        """The parts of life, in the order they are generated (the order is part of the seed)."""
        return [
            ("contacts, alarms, series", self.setup),
            ("SMS threads", self.messages),
            ("calls", self.calls),
            ("chat", self.chat),
            ("work mail threads", self.work_mail),
            ("newsletters and invoices", self.other_mail),
            ("orders, bookings, school mail", self.orders_and_travel),
            ("shell history", self.shell),
            ("notes", self.notes),
            ("todos", self.todos),
            ("bank", self.money),
            ("price alerts", self.prices),
            ("photos and downloads", self.photos),
            ("calendar", self.calendar),
            ("conflicting signals", self.conflicting_signals),
        ]

    def run(self, progress: Callable[[str, int, int], None] | None = None) -> list[E.EventBase]:
        steps = self.aspects()
        for i, (name, step) in enumerate(steps):
            if progress is not None:
                progress(name, i, len(steps))
            step()
        return self.out

    def setup(self) -> None:
        """What is already there when the window opens: contacts, alarms, recurring series."""
        p, rng = self.persona, self.rng("setup")
        t = self.begin + timedelta(hours=8)
        for i, person in enumerate(p.people):
            if not (person.phone or person.email):
                continue
            self.emit(
                E.ContactAdded,
                t + timedelta(minutes=i),
                self.phone,
                contact_id=f"c-{slug(person.name)}",
                name=person.name,
                phones=[person.phone] if person.phone else [],
                emails=[person.email] if person.email else [],
                org=p.employer.name if person in p.colleagues else None,
                note=person.relation or person.role,
            )
        for i, bill in enumerate(p.bills):
            if bill.private and bill.phone:  # a private landlord is a person in the contacts
                self.emit(
                    E.ContactAdded,
                    t + timedelta(minutes=20 + i),
                    self.phone,
                    contact_id=f"c-{slug(bill.payee)}",
                    name=bill.payee,
                    phones=[bill.phone],
                    note=self.lang.category(bill.category),
                )
        wake = p.routines.wake
        days = list(p.routines.workdays)
        self.emit(
            E.AlarmSet,
            t + timedelta(minutes=30),
            self.phone,
            alarm_id="alarm-wake",
            hour=int(wake[:2]),
            minute=int(wake[3:]),
            label="Wake up",
            days=days,
        )
        self.emit(
            E.AlarmSet,
            t + timedelta(minutes=31),
            self.phone,
            alarm_id="alarm-weekend",
            hour=8,
            minute=30,
            label="Weekend",
            days=["sa", "su"],
            enabled=rng.random() < 0.5,
        )
        for meeting in p.meetings:
            guests = [
                E.Attendee(name=c.name, email=c.email)
                for c in p.colleagues
                if c.name in meeting.attendees and c.email
            ]
            self._weekly_event(
                t + timedelta(minutes=40),
                meeting.title,
                meeting.days,
                meeting.at,
                meeting.minutes,
                meeting.location,
                attendees=guests,
            )
        for habit in p.habits:
            self._weekly_event(
                t + timedelta(minutes=50),
                habit.what.capitalize(),
                habit.days,
                habit.at,
                60,
                habit.place,
                event_id=f"ev-{slug(habit.what)}",
            )

    def _weekly_event(
        self,
        created: datetime,
        title: str,
        days: Sequence[str],
        at: str,
        minutes: int,
        location: str | None,
        event_id: str | None = None,
        **extra: Any,
    ) -> None:
        """A weekly series (a standing meeting, a habit) from its first day in the first week."""
        first = next(
            d
            for d in (self.start + timedelta(n) for n in range(7))
            if WEEKDAYS[d.weekday()] in days
        )
        start = self.at(first, at)
        self.emit(
            E.CalendarCreated,
            created,
            self.phone,
            event_id=event_id or f"ev-{slug(title)}",
            title=title,
            start=start,
            end=start + timedelta(minutes=minutes),
            location=location,
            **extra,
            rrule="FREQ=WEEKLY;BYDAY=" + ",".join(d.upper() for d in days),
        )

    # -- phone: SMS, calls, chat ------------------------------------------------
    def messages(self) -> None:
        p, rng = self.persona, self.rng("sms")
        text = TextMaker(p, rng)
        L = self.lang
        close = [x for x in p.family if x.phone]
        personal = [x.nickname or x.name.split()[0] for x in (*p.family, *p.friends)]
        friends = [x for x in p.friends if x.phone]
        for day in self.days_iter():
            talks: list[tuple[Person, tuple[str, ...], tuple[str, ...]]] = []
            for i, person in enumerate(close):
                if rng.random() < (0.95 if i == 0 else 0.4):
                    talks += [(person, L.family_in, L.family_out)] * (
                        2 if i == 0 and rng.random() < 0.5 else 1
                    )
            for person in friends:
                if rng.random() < 0.35:
                    talks.append((person, L.friend, L.friend + L.family_out))
            for person, incoming, outgoing in talks:
                t = self.at(day, text.clock(7, 21), jitter=20, rng=rng)
                mates = {"person": text.pick(personal)}
                if rng.random() < 0.6:
                    script = [(line[0] == ">", line[2:]) for line in text.pick(L.dialogues)]
                else:
                    first_in = rng.random() < 0.6
                    script = [
                        (
                            (n % 2 == 0) == first_in,
                            text.pick(incoming if (n % 2 == 0) == first_in else outgoing),
                        )
                        for n in range(self.count(rng, 2, 6) or 1)
                    ]
                for inbound, template in script:
                    body = text.fill(template, **mates)
                    cls = E.SmsReceived if inbound else E.SmsSent
                    self.emit(cls, t, self.phone, address=person.phone, body=body)
                    t += timedelta(minutes=rng.randint(1, 12), seconds=rng.randint(0, 59))
            for _ in range(self.count(rng, 0, 2, self.noise)):
                sender_t, body_t = text.pick(L.service_sms)
                sender = text.fill(sender_t)
                body = text.fill(body_t, shop=text.pick(W.SHOP_NAMES))
                t = self.at(day, text.clock(8, 20), jitter=25, rng=rng)
                self.emit(E.SmsReceived, t, self.phone, address=sender, body=body, tags=["noise"])
                if rng.random() < 0.08 * self.noise:  # the same text again: a near-duplicate
                    self.emit(
                        E.SmsReceived,
                        t + timedelta(minutes=rng.randint(1, 3)),
                        self.phone,
                        address=sender,
                        body=body,
                        tags=["noise", "near-duplicate"],
                    )

    def calls(self) -> None:
        p, rng = self.persona, self.rng("calls")
        text = TextMaker(p, rng)
        known = [x for x in p.people if x.phone]
        for day in self.days_iter():
            for _ in range(self.count(rng, 0, 3)):
                person = text.pick(known)
                t = self.at(day, text.clock(8, 21), jitter=25, rng=rng)
                roll = rng.random()
                if roll < 0.8:
                    cls, lo, hi = (
                        (E.CallIncoming, 20, 1500) if roll < 0.4 else (E.CallOutgoing, 0, 1200)
                    )
                    duration = rng.randint(lo, hi)
                    self.emit(cls, t, self.phone, number=person.phone, duration_s=duration)
                else:
                    self.emit(E.CallMissed, t, self.phone, number=person.phone)
            if rng.random() < 0.2 * self.noise:
                rng.randint(10, 99)  # was a random country code; the draw keeps the seed's stream
                number = local_number(p, rng.randint(100, 999), rng.randint(1000000, 9999999))
                t = self.at(day, text.clock(9, 19), jitter=25, rng=rng)
                self.emit(E.CallMissed, t, self.phone, number=number, tags=["noise"])

    def chat(self) -> None:
        p, rng = self.persona, self.rng("chat")
        text = TextMaker(p, rng)
        team_room = f"#{slug(p.employer.name)}-team"
        for day in self.days_iter():
            if self.workday(day):
                t = self.at(day, p.routines.work_start, rng=rng)
                self._chat_burst(
                    rng,
                    text,
                    t,
                    self.count(rng, 10, 20),
                    (3, 40),
                    team_room,
                    p.colleagues,
                    lambda: text.fill(
                        text.pick(W.CHAT_WORK), person=text.pick(text.colleague_names)
                    ),
                )
            elif p.friends:
                t = self.at(day, "10:00", jitter=60, rng=rng)
                self._chat_burst(
                    rng,
                    text,
                    t,
                    self.count(rng, 4, 14),
                    (2, 40),
                    "friends",
                    p.friends,
                    lambda: text.fill(text.pick(W.CHAT_FRIENDS)),
                )

    def _chat_burst(
        self,
        rng: random.Random,
        text: TextMaker,
        t: datetime,
        n: int,
        gap_minutes: tuple[int, int],
        room: str,
        people: Sequence[Person],
        body: Callable[[], str],
    ) -> None:
        """``n`` messages in one room, about a third the user's; keeps the stream's RNG order."""
        for _ in range(n):
            t += timedelta(minutes=rng.randint(*gap_minutes))
            mine = rng.random() < 0.3
            sender = self.persona.name if mine else text.pick(people).name
            self.emit(
                E.ChatMessage,
                t,
                self.phone,
                room=room,
                sender=sender,
                body=body(),
                outgoing=mine,
            )

    # -- laptop: mail, shell ----------------------------------------------------
    def work_mail(self) -> None:
        """Threads with colleagues that go back and forth over weeks."""
        p, rng = self.persona, self.rng("work-mail")
        text = TextMaker(p, rng)
        threads: list[Thread] = []
        for day in self.days_iter():
            if not self.workday(day):
                continue
            t = self.at(day, p.routines.work_start, rng=rng)
            for _ in range(self.count(rng, 5, 11)):
                while len(threads) < 5:
                    subject = text.fill(text.pick(W.WORK_SUBJECTS))
                    threads.append(Thread(subject, text.pick(p.colleagues), rng.randint(3, 12)))
                thread = text.pick(threads)
                t += timedelta(minutes=rng.randint(5, 50))
                mine = thread.count % 2 == 1
                other = thread.colleague
                msg_id = f"<{self.uid('m')}.{slug(thread.subject)[:20]}@{p.employer.domain}>"
                subject = ("Re: " if thread.count else "") + thread.subject
                cls = E.MailSent if mine else E.MailReceived
                sender = self.work_email if mine else (other.email or self.work_email)
                to = [other.email or self.work_email] if mine else [self.work_email]
                cc = [] if rng.random() < 0.6 else [text.pick(p.colleagues).email or sender]
                body = text.work_mail(
                    other.name.split()[0] if mine else p.first_name,
                    p.first_name if mine else other.name.split()[0],
                )
                self.emit(
                    cls,
                    t,
                    self.laptop,
                    message_id=msg_id,
                    sender=sender,
                    to=to,
                    cc=[c for c in cc if c != sender],
                    subject=subject,
                    body=body,
                    in_reply_to=thread.last_id,
                )
                thread.last_id, thread.count = msg_id, thread.count + 1
                thread.remaining -= 1
                if thread.remaining <= 0:
                    threads.remove(thread)

    def other_mail(self) -> None:
        """Newsletters (noise, some resent), invoices before each bill, family mail."""
        p, rng = self.persona, self.rng("mail")
        text = TextMaker(p, rng)
        letters = [
            (f"{interest.title()} {text.pick(W.NEWSLETTER_NAMES)}", interest)
            for interest in p.interests
        ]
        for day in self.days_iter():
            for _ in range(self.count(rng, 2, 5, self.noise * self.density)):
                name, interest = text.pick(letters)
                sender = f"news@{slug(name)}.example"
                t = self.at(day, text.clock(5, 22), jitter=20, rng=rng)
                body = text.newsletter(name, interest)
                subject = f"{name}: {text.fill(text.pick(W.NOTE_TITLES), interest=interest)}"
                self.mail_in(
                    t,
                    "n",
                    f"{slug(name)}",
                    sender,
                    subject,
                    body,
                    read=rng.random() < 0.3,
                    tags=["noise"],
                )
                if rng.random() < 0.07 * self.noise:
                    self.mail_in(
                        t + timedelta(hours=rng.randint(2, 30)),
                        "n",
                        f"{slug(name)}",
                        sender,
                        f"[Reminder] {subject}",
                        body,
                        read=False,
                        tags=["noise", "near-duplicate"],
                    )
            for bill in p.bills:
                if day.day == max(1, bill.day - 4) and not bill.private:  # a person sends none
                    body = self._invoice(bill, day)
                    self.mail_in(
                        self.at(day, "06:10", jitter=30, rng=rng),
                        "b",
                        f"{slug(bill.payee)}.example",
                        f"billing@{slug(bill.payee)}.example",
                        self.lang.invoice_subject.format(payee=bill.payee, month=self._month(day)),
                        body,
                    )
            if rng.random() < 0.15 * self.density:
                person = text.pick([x for x in p.people if x.email] or p.colleagues)
                body = text.work_mail(p.first_name, person.name.split()[0], paragraphs=2)
                self.mail_in(
                    self.at(day, text.clock(), rng=rng),
                    "f",
                    "mail.example",
                    person.email or p.email,
                    text.fill("About {day}"),
                    body,
                )

    def orders_and_travel(self) -> None:
        """Order confirmations with a shipping notice later, bookings, school letters."""
        p, rng = self.persona, self.rng("orders")
        text = TextMaker(p, rng)
        cur = self.currency
        scale = Decimal(150) if cur == "JPY" else Decimal(1)
        kids = [x for x in p.family if x.relation in ("son", "daughter")]
        for day in self.days_iter():
            if rng.random() < 0.18 * self.density:
                shop = text.pick(W.GENERAL_SHOPS)
                order = f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}"
                lines, total, bought = [], Decimal(0), []
                for name, lo, hi in rng.sample(W.PRODUCTS, rng.randint(1, 3)):
                    qty = 1 if rng.random() < 0.8 else 2
                    price = money(Decimal(rng.randint(lo * 100, hi * 100)) / 100 * scale, cur)
                    total += price * qty
                    lines.append(f"  {qty} x {name:<28} {show_money(price * qty, cur)}")
                    bought.append({"name": name, "qty": qty, "price": price})
                arrive = day + timedelta(days=rng.randint(2, 5))
                t = self.at(day, text.clock(7, 22), jitter=20, rng=rng)
                first_id = f"<{self.uid('o')}@{slug(shop)}.example>"
                body = (
                    f"Hello {p.first_name},\n\nthank you for your order {order}.\n\n"
                    + "\n".join(lines)
                    + f"\n\n  Total: {show_money(total, cur)}\n\nExpected delivery: "
                    f"{arrive.strftime('%A, %d %B')}, to {p.home_address}.\n\n{shop} customer care"
                )
                self.emit(
                    E.MailReceived,
                    t,
                    self.laptop,
                    message_id=first_id,
                    sender=f"orders@{slug(shop)}.example",
                    to=[p.email],
                    subject=f"Your {shop} order {order}",
                    body=body,
                )
                ship = self.at(day + timedelta(days=1), text.clock(8, 18), rng=rng)
                message_id = f"<{self.uid('o')}@{slug(shop)}.example>"
                tracking = rng.randint(10**11, 10**12 - 1)
                self.emit(
                    E.MailReceived,
                    ship,
                    self.laptop,
                    message_id=message_id,
                    sender=f"orders@{slug(shop)}.example",
                    to=[p.email],
                    subject=f"Shipped: order {order}",
                    in_reply_to=first_id,
                    body=f"Good news, {p.first_name}: order {order} is on its way. "
                    f"Tracking number {tracking}. It should arrive "
                    f"on {arrive.strftime('%A, %d %B')}.",
                )
                self.shop_and_parcel(shop, order, bought, t, ship, arrive, str(tracking))
            if rng.random() < 0.05 * self.density:
                mode, carrier, dest = text.pick(W.TRAVEL)
                go = day + timedelta(days=rng.randint(7, 30))
                dep = text.clock(6, 19)
                code = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
                body = (
                    f"Booking confirmation {code}\n\nPassenger: {p.name}\n"
                    f"{mode.capitalize()} {carrier} {rng.randint(100, 2999)} from {p.city} to "
                    f"{dest}\nDeparture: {go.strftime('%a %d %b %Y')} {dep}\n"
                    f"Seat: {rng.randint(1, 80)}{text.pick('ABCDF')}\n\n"
                    "Please be at the departure point 15 minutes early. Changes are possible "
                    "until 24 hours before departure."
                )
                self.mail_in(
                    self.at(day, text.clock(), rng=rng),
                    "t",
                    "bookings.example",
                    "noreply@bookings.example",
                    f"Your {mode} to {dest} on {go.strftime('%d %b')}",
                    body,
                )
            if kids and day.weekday() == 4 and rng.random() < 0.5:
                school = next((pl.name for pl in p.places if pl.kind == "school"), "School")
                body = (
                    "Dear parents,\n\n"
                    + " ".join(
                        text.fill(line) for line in rng.sample(W.SCHOOL_LINES, rng.randint(2, 4))
                    )
                    + f"\n\nWith kind regards,\n{school}"
                )
                self.mail_in(
                    self.at(day, "13:30", jitter=30, rng=rng),
                    "s",
                    "school.example",
                    f"office@{slug(school)}.example",
                    f"{school}: news for the week",
                    body,
                )

    def shop_and_parcel(
        self,
        shop: str,
        order: str,
        bought: list[dict[str, Any]],
        placed: datetime,
        ship: datetime,
        arrive: date,
        tracking: str,
    ) -> None:
        """The same order as the shop and the carrier hold it (no random draws: the rest
        of the stream stays as it was)."""
        cur, shop_t, parcel_t = self.currency, self.service("shop"), self.service("parcels")
        common = {"order_id": order, "shop": shop, "lines": bought, "currency": cur}
        delivered = self.at(arrive, "13:10")
        self.emit(E.ShopOrder, placed, shop_t, status="placed", **common)
        self.emit(E.ShopOrder, ship, shop_t, status="shipped", **common)
        self.emit(E.ShopOrder, delivered, shop_t, status="delivered", **common)
        what = ", ".join(f"{x['qty']} x {x['name']}" for x in bought)
        parcel = {"tracking": tracking, "carrier": "DHL", "order_id": order}
        eta = self.at(arrive, "12:00")
        self.emit(
            E.ParcelUpdate, ship, parcel_t, status="announced", sender=shop, description=what,
            eta=eta, text="The sender has announced the parcel.", **parcel,
        )  # fmt: skip
        self.emit(
            E.ParcelUpdate, self.at(arrive, "07:40"), parcel_t, status="out_for_delivery",
            location=self.persona.city, text="The parcel is out for delivery.", eta=eta, **parcel,
        )  # fmt: skip
        self.emit(
            E.ParcelUpdate, delivered, parcel_t, status="delivered", location=self.persona.city,
            text="The parcel was delivered.", **parcel,
        )  # fmt: skip

    def _month(self, day: date) -> str:
        """ "March 2026", "März 2026", "2026年3月" """
        if self.persona.language == "ja":
            return f"{day.year}年{self.lang.month(day.month)}"
        return f"{self.lang.month(day.month)} {day.year}"

    def _invoice(self, bill: Bill, day: date) -> str:
        p = self.persona
        return self.lang.invoice_body.format(
            name=p.name,
            month=self._month(day),
            amount=show_money(bill.amount, self.currency),
            account=p.bank.account[-4:],
            day=bill.day,
            number=1000 + len(bill.payee) * 37,
            category=self.lang.category(bill.category),
            payee=bill.payee,
        )

    def shell(self) -> None:
        p, rng = self.persona, self.rng("shell")
        text = TextMaker(p, rng)
        for day in self.days_iter():
            n = self.count(rng, 14, 30) if self.workday(day) else self.count(rng, 2, 8)
            t = self.at(day, p.routines.work_start, jitter=30, rng=rng)
            for _ in range(n):
                t += timedelta(minutes=rng.randint(1, 25), seconds=rng.randint(0, 59))
                self.emit(
                    E.ShellCommand, t, self.laptop, command=text.fill(text.pick(W.SHELL_COMMON))
                )

    # -- notes and todos --------------------------------------------------------
    def notes(self) -> None:
        p, rng = self.persona, self.rng("notes")
        text = TextMaker(p, rng)
        phone_side = self.phone or self.laptop
        laptop_side = self.laptop or self.phone
        written: set[str] = set()
        for day in self.days_iter():
            if self.workday(day):
                for meeting in p.meetings:
                    if (
                        WEEKDAYS[day.weekday()] in meeting.days
                        and rng.random() < 0.35 * self.density
                    ):
                        t = self.at(day, meeting.at) + timedelta(minutes=meeting.minutes + 2)
                        path = f"meetings/{day.isoformat()}-{slug(meeting.title)}.md"
                        body = text.meeting_notes(
                            meeting.title, day, [p.first_name, *meeting.attendees]
                        )
                        self.emit(E.NoteWritten, t, laptop_side, path=path, text=body)
            if rng.random() < 0.6 * self.density:
                title = text.fill(text.pick(W.NOTE_TITLES), date=day.isoformat())
                path = f"{slug(title)}.md"
                cls = E.NoteEdited if path in written else E.NoteWritten
                written.add(path)
                self.emit(
                    cls,
                    self.at(day, text.clock(7, 22), jitter=10, rng=rng),
                    phone_side,
                    path=path,
                    text=text.note(title),
                )

    def todos(self) -> None:
        p, rng = self.persona, self.rng("todos")
        text = TextMaker(p, rng)
        target = self.laptop or self.phone
        for day in self.days_iter():
            for _ in range(self.count(rng, 0, 3)):
                todo_id = self.uid("todo")
                t = self.at(day, text.clock(7, 22), jitter=10, rng=rng)
                due = t + timedelta(days=rng.randint(1, 10)) if rng.random() < 0.5 else None
                self.emit(
                    E.TodoAdded,
                    t,
                    target,
                    todo_id=todo_id,
                    text=text.fill(text.pick(W.TODO_TEXTS)),
                    due=due,
                )
                if rng.random() < 0.7:
                    done = t + timedelta(days=rng.randint(0, 8), hours=rng.randint(1, 10))
                    self.emit(E.TodoDone, done, target, todo_id=todo_id)

    # -- money ------------------------------------------------------------------
    def money(self) -> None:
        """Card payments, bills and salary with a running balance; a monthly CSV statement."""
        p, rng = self.persona, self.rng("bank")
        text = TextMaker(p, rng)
        cur, bank = self.currency, p.bank
        scale = Decimal(100) if cur == "JPY" else Decimal(1)
        balance = bank.opening_balance
        month_rows: list[str] = []
        for day in self.days_iter():
            txns: list[tuple[datetime, Decimal, str, str]] = []
            for bill in p.bills:
                if day.day == bill.day:
                    ref = f"{bill.category} {day.strftime('%m/%Y')}"
                    txns.append((self.at(day, "05:00"), -bill.amount, bill.payee, ref))
            if day.day == bank.payday:
                txns.append((self.at(day, "04:30"), bank.salary, p.employer.name, "salary"))
            for _ in range(self.count(rng, 0, 3)):
                _category, merchants = text.pick(W.CARD_MERCHANTS)
                merchant = text.fill(text.pick(merchants))
                amount = Decimal(rng.randint(250, 9000)) / 100 * scale
                when = self.at(day, text.clock(8, 21), jitter=20, rng=rng)
                txns.append((when, -money(amount, cur), merchant, "card payment"))
            for when, amount, who, ref in sorted(txns):
                balance += amount
                self.emit(
                    E.BankTransaction,
                    when,
                    self.laptop,
                    account=bank.account,
                    amount=money(amount, cur),
                    currency=cur,
                    counterparty=who,
                    reference=ref,
                    balance=money(balance, cur),
                )
                month_rows.append(
                    f"{when.date().isoformat()};{who};{ref};{money(amount, cur)};{cur}"
                )
            if day.day == 2 and month_rows:
                csv = "date;counterparty;reference;amount;currency\n" + "\n".join(month_rows) + "\n"
                self.emit(
                    E.FileDownloaded,
                    self.at(day, "19:30", jitter=30, rng=rng),
                    self.laptop,
                    name=f"statement-{(day - timedelta(days=3)).strftime('%Y-%m')}.csv",
                    url=f"https://online.{slug(bank.name)}.example/statements/export",
                    mime="text/csv",
                    text=csv,
                )
                month_rows = []

    def prices(self) -> None:
        p, rng = self.persona, self.rng("prices")
        prices = {w.item: w.price for w in p.wishlist}
        for day in self.days_iter():
            for wish in p.wishlist:
                if rng.random() < 0.2:
                    change = Decimal(rng.randint(-8, 6)) / 100
                    prices[wish.item] = money(prices[wish.item] * (1 + change), self.currency)
                    self.emit(
                        E.PriceAlert,
                        self.at(day, "07:00", jitter=60, rng=rng),
                        self.phone,
                        item=wish.item,
                        shop=wish.shop,
                        price=prices[wish.item],
                        currency=self.currency,
                        url=f"https://{slug(wish.shop)}.example/p/{slug(wish.item)}",
                    )

    def photos(self) -> None:
        p, rng = self.persona, self.rng("photos")
        text = TextMaker(p, rng)
        for day in self.days_iter():
            n = self.count(rng, 0, 2) if self.workday(day) else self.count(rng, 1, 4)
            for _ in range(n):
                t = self.at(day, text.clock(8, 21), jitter=25, rng=rng)
                t += timedelta(seconds=rng.randint(0, 59))
                self.emit(
                    E.PhotoTaken,
                    t,
                    self.phone,
                    name=f"IMG_{t.strftime('%Y%m%d_%H%M%S')}.jpg",
                    subject=text.fill(text.pick(W.PHOTO_SUBJECTS)),
                    width=4000 if rng.random() < 0.8 else 3000,
                    height=3000 if rng.random() < 0.8 else 4000,
                )
            if rng.random() < 0.12 * self.density:
                t = self.at(day, text.clock(9, 20), rng=rng)
                code = rng.randint(100000, 999999)
                self.emit(
                    E.FileDownloaded,
                    t,
                    self.phone or self.laptop,
                    name=f"ticket-{code}.txt",
                    url=f"https://tickets.example/{code}",
                    text=f"E-ticket {code}\nValid on {text.fill('{day}')} from {text.clock()}\n"
                    f"Passenger: {p.name}\nSeat: {rng.randint(1, 80)}{text.pick('ABCD')}\n",
                )

    # -- calendar ---------------------------------------------------------------
    def calendar(self) -> None:
        """One-off appointments, created days ahead; some later move or are cancelled."""
        p, rng = self.persona, self.rng("calendar")
        text = TextMaker(p, rng)
        for day in self.days_iter():
            if rng.random() >= 0.4 * self.density:
                continue
            title_t, loc_t, minutes = text.pick(W.CALENDAR_ADHOC)
            title, location = text.fill(title_t), text.fill(loc_t)
            created = self.at(day, text.clock(8, 21), jitter=20, rng=rng)
            start = self.at(day + timedelta(days=rng.randint(1, 20)), text.clock(8, 19))
            event_id = self.uid("ev")
            self.emit(
                E.CalendarCreated,
                created,
                self.phone,
                event_id=event_id,
                title=title,
                start=start,
                end=start + timedelta(minutes=minutes),
                location=location,
                description=text.sentences(W.NOTE_SENTENCES, 1),
            )
            self.appointments.append((event_id, title, start, start + timedelta(minutes=minutes)))
            roll = rng.random()
            if roll < 0.15:
                new = start + timedelta(days=rng.randint(-1, 3), hours=rng.randint(-2, 3))
                when = created + (start - created) * rng.random()
                self.emit(
                    E.CalendarMoved,
                    when,
                    self.phone,
                    event_id=event_id,
                    start=new,
                    end=new + timedelta(minutes=minutes),
                )
            elif roll < 0.23:
                when = created + (start - created) * rng.random()
                self.emit(E.CalendarCancelled, when, self.phone, event_id=event_id)
            if rng.random() < 0.05 * self.noise:  # a near-duplicate entry with a similar title
                self.emit(
                    E.CalendarCreated,
                    created + timedelta(minutes=2),
                    self.phone,
                    event_id=self.uid("ev"),
                    title=f"{title} (copy)",
                    start=start,
                    end=start + timedelta(minutes=minutes),
                    location=location,
                    tags=["noise", "near-duplicate"],
                )
        people = [x for x in p.friends if x.phone]
        if people:  # somebody changes their number
            person = people[0]
            day = self.start + timedelta(days=self.days // 2)
            digits = "".join(ch for ch in (person.phone or "") if ch.isdigit())
            new_number = "+" + digits[:-4] + str(rng.randint(1000, 9999))
            self.emit(
                E.SmsReceived,
                self.at(day, "12:10"),
                self.phone,
                address=new_number,
                body=f"Hi, it's {person.name.split()[0]} — this is my new number!",
            )
            self.emit(
                E.ContactEdited,
                self.at(day, "12:14"),
                self.phone,
                contact_id=f"c-{slug(person.name)}",
                phones=[new_number],
            )
        day = self.start + timedelta(days=self.days // 3)
        name, number = plumber(p)
        self.emit(
            E.ContactAdded,
            self.at(day, "16:20"),
            self.phone,
            contact_id="c-plumber",
            name=name,
            phones=[number],
            note="plumber",
        )

    # -- conflicting signals ----------------------------------------------------
    def conflicting_signals(self) -> None:
        """Facts that disagree between sources, as real life has them (tagged ``conflict``
        and ``about:SUBJECT``, so a task whose plot speaks of that subject drops them)."""
        p, rng = self.persona, self.rng("conflicts")
        text = TextMaker(p, rng)
        appts = [a for a in self.appointments if a[2] > self.begin + timedelta(days=3)]
        # New makers go at the end: a stream with fewer conflicts than makers stays as it was.
        makers = [
            self._moved_by_mail,
            self._two_prices,
            self._rent_change,
            self._reminder_time,
            self._parcel_delayed,
        ]
        for i in range(self.conflicts):
            makers[i % len(makers)](rng, text, appts, i)

    def _moved_by_mail(
        self, rng: random.Random, text: TextMaker, appts: list[Appointment], i: int
    ) -> None:
        """A work meeting moved by mail shortly before now; the calendar keeps the old time."""
        p = self.persona
        colleague = p.colleagues[i % len(p.colleagues)]
        project = p.projects[i % len(p.projects)]
        title = f"{project.capitalize()} review with {colleague.name.split()[0]}"
        event_id = self.uid("ev")
        day = self.local_now.date() + timedelta(days=rng.randint(1, 6))
        start = self.at(day, (rng.randint(9, 16), rng.choice((0, 30))))
        end = start + timedelta(minutes=60)
        created = self.local_now - timedelta(days=rng.randint(8, 20), hours=rng.randint(0, 5))
        self.emit(
            E.CalendarCreated,
            created,
            self.phone,
            event_id=event_id,
            title=title,
            start=start,
            end=end,
            location=p.employer.office,
            attendees=[E.Attendee(name=colleague.name, email=colleague.email)]
            if colleague.email
            else [],
            tags=["conflict", f"about:{title}"],
        )
        new = start + timedelta(days=rng.choice((1, 2, -1)), hours=rng.choice((1, 2, -2)))
        sent = self.local_now - timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 6))
        body = (  # work mail: in English, as the persona's team writes
            f'Hi {p.first_name},\n\nsomething came up, so I need to move our "{title}" from '
            f"{start.strftime('%A %d %B, %H:%M')} to {new.strftime('%A %d %B, %H:%M')}. "
            "Same place. "
            "I hope that still works for you — let me know if not.\n\n"
            f"Thanks,\n{colleague.name.split()[0]}"
        )
        self.emit(
            E.MailReceived,
            sent,
            self.laptop,
            message_id=f"<{self.uid('x')}@mail.example>",
            sender=colleague.email or self.work_email,
            to=[self.work_email],
            subject=f"Moving: {title}",
            body=body,
            read=False,
            tags=["conflict", f"ref:{event_id}", f"about:{title}"],
        )

    def _two_prices(
        self, rng: random.Random, text: TextMaker, appts: list[Appointment], i: int
    ) -> None:
        p = self.persona
        if not p.wishlist:
            return
        wish = p.wishlist[i % len(p.wishlist)]
        day = self.local_now.date() - timedelta(days=rng.randint(1, 10))
        a = money(wish.price * Decimal("0.93"), self.currency)
        b = money(wish.price * Decimal("0.97"), self.currency)
        self.emit(
            E.PriceAlert,
            self.at(day, "08:05"),
            self.phone,
            item=wish.item,
            shop=wish.shop,
            price=a,
            currency=self.currency,
            url=f"https://{slug(wish.shop)}.example/p/{slug(wish.item)}",
            tags=["conflict", f"about:{wish.item}"],
        )
        other = "Marktplatz24" if wish.shop != "Marktplatz24" else "Nordhaus"
        body = (
            f"Deal of the week at {other}: {wish.item} now only {show_money(b, self.currency)} "
            f"(was {show_money(wish.price, self.currency)}). "
            "Free delivery, offer valid until Sunday."
        )
        self.mail_in(
            self.at(day, "09:40"),
            "x",
            f"{slug(other)}.example",
            f"deals@{slug(other)}.example",
            f"{wish.item}: price drop",
            body,
            tags=["conflict", f"about:{wish.item}"],
        )

    def _parcel_delayed(
        self, rng: random.Random, text: TextMaker, appts: list[Appointment], i: int
    ) -> None:
        """An order on its way: the shop's shipping mail promises one day, the carrier's
        tracking has since moved it later (the shop's order and the parcel as the services
        hold them, the mail on the laptop)."""
        p, cur = self.persona, self.currency
        shop_t, parcel_t = self.service("shop"), self.service("parcels")
        if shop_t is None or parcel_t is None:  # the mail alone would contradict nothing
            return
        shop = W.GENERAL_SHOPS[i % len(W.GENERAL_SHOPS)]
        name, lo, hi = W.PRODUCTS[(i * 7) % len(W.PRODUCTS)]
        scale = Decimal(150) if cur == "JPY" else Decimal(1)
        price = money(Decimal(rng.randint(lo * 100, hi * 100)) / 100 * scale, cur)
        order = f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}"
        tracking = str(rng.randint(10**11, 10**12 - 1))
        today = self.local_now.date()
        ship = self.at(today - timedelta(days=rng.randint(1, 2)), "09:15")
        promised = today + timedelta(days=rng.randint(1, 3))
        later = promised + timedelta(days=rng.choice((1, 2, 3)))
        about = ["conflict", f"about:{name}", f"about:{order}"]
        bought = [{"name": name, "qty": 1, "price": price}]
        common = {"order_id": order, "shop": shop, "lines": bought, "currency": cur}
        self.emit(E.ShopOrder, ship - timedelta(hours=20), shop_t, status="placed", **common)
        self.emit(E.ShopOrder, ship, shop_t, status="shipped", **common)
        parcel = {"tracking": tracking, "carrier": "DHL", "order_id": order, "tags": about}
        self.emit(
            E.ParcelUpdate, ship, parcel_t, status="announced", sender=shop,
            description=f"1 x {name}", eta=self.at(promised, "12:00"),
            text="The sender has announced the parcel.", **parcel,
        )  # fmt: skip
        self.emit(
            E.ParcelUpdate, min(self.now, ship + timedelta(hours=30)), parcel_t,
            status="in_transit", location="DHL hub", eta=self.at(later, "12:00"),
            text=f"Delayed: the parcel will now arrive on {later.strftime('%d.%m.%Y')}.",
            **parcel,
        )  # fmt: skip
        self.mail_in(
            ship + timedelta(minutes=5),
            "o",
            f"{slug(shop)}.example",
            f"orders@{slug(shop)}.example",
            f"Shipped: order {order}",
            f"Good news, {p.first_name}: order {order} (1 x {name}) is on its way. "
            f"Tracking number {tracking}. It will arrive on {promised.strftime('%A, %d %B')}.",
            tags=about,
        )

    def _rent_change(
        self, rng: random.Random, text: TextMaker, appts: list[Appointment], i: int
    ) -> None:
        """A bill changes by SMS; the bank still shows the old amount."""
        p = self.persona
        if not p.bills:
            return
        bill = p.bills[0]
        new = money(bill.amount * Decimal("1.045"), self.currency)
        day = self.local_now.date() - timedelta(days=rng.randint(2, 12))
        said = {
            "name": p.name,
            "first": p.first_name,
            "category": self.lang.category(bill.category),
            "address": p.home_address,
            "new": show_money(new, self.currency),
            "old": show_money(bill.amount, self.currency),
            "payee": bill.payee,
            "signed": bill.payee.split()[0],
        }
        if bill.private:  # a person texts from their own number and signs with their name
            address = bill.phone or bill.payee
            body = self.lang.change_private.format(**said)
        else:
            address = bill.payee[:11]
            body = self.lang.change_company.format(**said)
        about = [f"about:{bill.payee}", f"about:{bill.category}"]
        if said["category"] != bill.category:  # "Miete" in a German plot is the rent too
            about.append(f"about:{said['category']}")
        self.emit(
            E.SmsReceived,
            self.at(day, "11:20"),
            self.phone,
            address=address,
            body=body,
            tags=["conflict", *about],
        )

    def _reminder_time(
        self, rng: random.Random, text: TextMaker, appts: list[Appointment], i: int
    ) -> None:
        """An SMS reminder gives another time than the calendar entry."""
        if not appts:
            return
        event_id, title, start, _end = appts[(i * 5 + 1) % len(appts)]
        other = start + timedelta(minutes=rng.choice((30, 60, -30)))
        body = self.lang.reminder.format(
            title=title, date=start.strftime("%d.%m."), time=other.strftime("%H:%M")
        )
        self.emit(
            E.SmsReceived,
            start - timedelta(days=1, hours=2),
            self.phone,
            address="Reminder",
            body=body,
            tags=["conflict", f"ref:{event_id}", f"about:{title}"],
        )
