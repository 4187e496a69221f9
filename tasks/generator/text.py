"""Plausible text from templates: mails, messages, notes, newsletters, shell lines.

Every choice comes from the caller's ``random.Random``, so the same seed gives
the same words. Templates and word lists live in :mod:`tasks.generator.words`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import ClassVar

from tasks.generator import words as W
from tasks.generator.lang import PHRASES
from tasks.persona import Persona


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded the way ``currency`` is written (no minor unit for JPY)."""
    exp = Decimal("1") if currency == "JPY" else Decimal("0.01")
    return amount.quantize(exp)


def show_money(amount: Decimal, currency: str) -> str:
    return f"{money(amount, currency)} {currency}"


class _Slots(dict):
    """Fills a template slot on first use, so only the slots a template names are drawn."""

    def __init__(self, maker: TextMaker, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.maker = maker

    def __missing__(self, key: str) -> str:
        value = self.maker.slot(key)
        self[key] = value
        return value


class TextMaker:
    """Draws words for one persona from one RNG."""

    def __init__(self, persona: Persona, rng: random.Random) -> None:
        self.p = persona
        self.rng = rng
        self.lang = PHRASES[persona.language]
        self.first_names = [x.nickname or x.name.split()[0] for x in persona.people]
        self.friends = [x.name.split()[0] for x in persona.friends] or self.first_names
        self.colleague_names = [x.name.split()[0] for x in persona.colleagues]
        self.children = [
            x.name.split()[0] for x in persona.family if x.relation in ("son", "daughter")
        ] or ["the kid"]
        self.place_by_kind = {pl.kind: pl.name for pl in persona.places}

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def clock(self, lo: int = 8, hi: int = 20) -> str:
        return f"{self.rng.randint(lo, hi):02d}:{self.pick(('00', '15', '30', '45'))}"

    # Slots that are one pick from a pool, and places named by kind (with a generic default).
    _POOLS: ClassVar[dict[str, Callable[[TextMaker], Sequence[str]]]] = {
        "person": lambda m: m.first_names,
        "friend": lambda m: m.friends,
        "colleague": lambda m: m.colleague_names,
        "child": lambda m: m.children,
        "project": lambda m: m.p.projects,
        "topic": lambda m: W.WORK_TOPICS,
        "day": lambda m: m.lang.day_names,
        "interest": lambda m: m.p.interests,
        "shop": lambda m: W.SHOP_NAMES,
        "branch": lambda m: W.BRANCH_WORDS,
        "system": lambda m: W.SYSTEMS,
    }
    _PLACES: ClassVar[dict[str, str]] = {
        "grocery": "the supermarket",
        "cafe": "the café",
        "dentist": "Dental practice",
        "school": "School",
    }

    def slot(self, key: str) -> str:
        pool = self._POOLS.get(key)
        if pool is not None:
            return self.pick(pool(self))
        if key in self._PLACES:
            return self.place_by_kind.get(key, self._PLACES[key])
        r = self.rng
        p = self.p
        match key:
            case "time" | "time2":
                return self.clock()
            case "minutes":
                return str(self.pick((5, 10, 15, 20, 30)))
            case "place":
                return self.pick(p.places).name if p.places else p.city
            case "amount":
                return show_money(Decimal(r.randint(8, 400)), p.bank.currency)
            case "code":
                return str(r.randint(100000, 999999))
            case "date":
                return f"{r.randint(1, 28):02d}.{r.randint(1, 12):02d}."
            case "bank":
                return p.bank.name
            case "city":
                return p.city
            case "me":
                return p.first_name
            case "slug":
                return slug(self.pick(p.projects))
            case "domain":
                return p.employer.domain
            case "note":
                return slug(self.pick(p.projects)) + ".md"
            case "csv":
                return f"export-{r.randint(1, 12):02d}.csv"
            case "week":
                return str(r.randint(1, 52))
            case "n":
                return str(r.randint(2, 14))
            case "pct":
                return str(r.randint(2, 19) * 5)
            case "payee":
                return self.pick(p.bills).payee if p.bills else "utility"
        raise KeyError(key)

    def fill(self, template: str, **fixed: str) -> str:
        return template.format_map(_Slots(self, fixed))

    def sentences(self, pool: tuple[str, ...], n: int, **fixed: str) -> str:
        return " ".join(self.fill(self.pick(pool), **fixed) for _ in range(n))

    def work_sentence(self, person: str) -> str:
        """Half from whole templates, half composed from parts (thousands of combinations)."""
        if self.rng.random() < 0.5:
            return self.fill(self.pick(W.WORK_SENTENCES), person=person)
        opener = self.fill(self.pick(W.OPENERS), person=person)
        subject = self.fill(self.pick(W.SUBJECTS), person=person)
        if not opener:
            subject = subject[0].upper() + subject[1:]
        return opener + subject + " " + self.fill(self.pick(W.PREDICATES)) + self.pick(W.TAILS)

    def work_mail(self, to_first: str, me: str, paragraphs: int | None = None) -> str:
        r = self.rng
        n = paragraphs or r.randint(2, 4)
        parts = [self.fill(self.pick(W.GREETINGS), person=to_first)]
        for _ in range(n):
            who = self.pick(self.colleague_names)
            parts.append(" ".join(self.work_sentence(who) for _ in range(r.randint(2, 4))))
        parts.append(self.fill(self.pick(W.SIGNOFFS), me=me))
        return "\n\n".join(parts)

    def newsletter(self, name: str, interest: str) -> str:
        r = self.rng
        parts = [f"{name} — issue {r.randint(10, 400)}"]
        chosen = r.sample(W.INTEREST_PARAGRAPHS, r.randint(3, 6))
        parts += [self.fill(paragraph, interest=interest) for paragraph in chosen]
        parts.append(
            f"You receive this because you subscribed at {slug(name)}.example. "
            "To stop receiving these messages, use the unsubscribe link in your account settings."
        )
        return "\n\n".join(parts)

    def note(self, title: str) -> str:
        r = self.rng
        lines = [f"# {title}", ""]
        if title == "Groceries":
            lines += [f"- [ ] {g}" for g in r.sample(W.GROCERIES, r.randint(4, 9))]
        elif title == "Recipes to try":
            dish, ingredients = self.pick(W.RECIPES)
            lines += [f"## {dish}", "", "Ingredients:"]
            lines += [f"- {i}" for i in ingredients]
            lines += ["", "Steps:"]
            steps = r.sample(W.RECIPE_STEPS, r.randint(3, 5))
            lines += [f"{n}. {self.fill(step)}" for n, step in enumerate(steps, 1)]
        elif title == "Books to read":
            for book, author in r.sample(W.BOOKS, r.randint(3, 6)):
                mark = "x" if r.random() < 0.3 else " "
                by = self.fill("recommended by {person}")
                lines.append(f"- [{mark}] *{book}* by {author} — {by}")
        else:
            lines.append(self.sentences(W.NOTE_SENTENCES, r.randint(2, 4)))
            lines.append("")
            lines += [f"- {self.fill(self.pick(W.NOTE_SENTENCES))}" for _ in range(r.randint(2, 5))]
        return "\n".join(lines) + "\n"

    def meeting_notes(self, title: str, day: date, attendees: list[str]) -> str:
        r = self.rng
        lines = [f"# {title} — {day.isoformat()}", "", f"Attendees: {', '.join(attendees)}", ""]
        lines.append("## Discussion")
        lines += [
            f"- {self.work_sentence(self.pick(attendees).split()[0])}"
            for _ in range(r.randint(3, 6))
        ]
        lines += ["", "## Actions"]
        for _ in range(r.randint(1, 3)):
            lines.append(f"- [ ] {self.pick(self.colleague_names)}: {self.fill('{topic}')}")
        return "\n".join(lines) + "\n"
