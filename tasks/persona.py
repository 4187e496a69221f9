"""Personas: the simulated user whose life the generator writes.

A persona is a YAML file describing who the user is (name, numbers, employer),
who they know (family, colleagues, friends), where they go, and the rhythms
of their weeks (routines, habits, recurring meetings, bills). The generator
reads nothing else, so a persona file is the whole of a stream's cast.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tasks.loader import Located, Problem, ProblemsFound, load_yaml, validate
from tasks.times import zone

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
WEEKDAYS: tuple[str, ...] = ("mo", "tu", "we", "th", "fr", "sa", "su")
BUILTIN = Path(__file__).parent / "personas"


def _clock(value: str) -> str:
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{value!r} is not a clock time HH:MM")
    if int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ValueError(f"{value!r} is not a clock time (00:00-23:59)")
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}"


def _tz(value: str) -> str:
    zone(value)
    return value


Clock = Annotated[str, AfterValidator(_clock)]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_M):
    name: str = Field(min_length=1)
    relation: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None
    nickname: str | None = None
    abroad: bool = Field(
        default=False, description="lives in another country: a foreign number is intended"
    )


class Place(_M):
    name: str
    kind: str
    address: str


class Employer(_M):
    name: str
    domain: str
    role: str
    office: str


class Routines(_M):
    wake: Clock = "07:00"
    workdays: list[Weekday] = Field(default_factory=lambda: ["mo", "tu", "we", "th", "fr"])
    work_start: Clock = "09:00"
    work_end: Clock = "17:30"
    commute: str = "train"


class Habit(_M):
    what: str
    days: list[Weekday]
    at: Clock
    place: str | None = None


class Meeting(_M):
    title: str
    days: list[Weekday]
    at: Clock
    minutes: int = Field(default=30, ge=5, le=480)
    attendees: list[str] = Field(default_factory=list, alias="with")
    location: str = "video call"


class Bill(_M):
    """A recurring payment. ``private``: the payee is a person (a private landlord), who
    texts from ``phone`` and sends no company invoices; otherwise a company that mails them."""

    payee: str
    amount: Decimal = Field(gt=0)
    day: int = Field(ge=1, le=28)
    category: str = "bills"
    private: bool = False
    phone: str | None = None

    @model_validator(mode="after")
    def _person_has_the_phone(self) -> Bill:
        if self.phone is not None and not self.private:
            raise ValueError("phone is for a private payee (private: true), a person")
        return self


class WishItem(_M):
    item: str
    shop: str
    price: Decimal = Field(gt=0)


class Bank(_M):
    name: str
    account: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    salary: Decimal = Field(gt=0)
    payday: int = Field(ge=1, le=28)
    opening_balance: Decimal = Decimal("2500.00")


class Persona(_M):
    name: str
    timezone: Annotated[str, AfterValidator(_tz)]
    # The language family, friends and local senders write in (tasks/generator/lang.py).
    language: Literal["en", "de", "ja"] = "en"
    phone: str
    email: str
    city: str
    home_address: str
    employer: Employer
    family: list[Person] = Field(default_factory=list)
    colleagues: list[Person] = Field(default_factory=list)
    friends: list[Person] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    routines: Routines = Field(default_factory=Routines)
    habits: list[Habit] = Field(default_factory=list)
    meetings: list[Meeting] = Field(default_factory=list)
    bills: list[Bill] = Field(default_factory=list)
    wishlist: list[WishItem] = Field(default_factory=list)
    bank: Bank
    interests: list[str] = Field(min_length=1)
    projects: list[str] = Field(min_length=1)

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def calling_code(self) -> int | None:
        """The country calling code of the persona's own number (49, 1, 81 …)."""
        import phonenumbers

        try:
            return phonenumbers.parse(self.phone, None).country_code
        except phonenumbers.NumberParseException:
            return None

    @property
    def region(self) -> str | None:
        """The persona's country (ISO 3166 alpha-2), from their own number."""
        import phonenumbers

        try:
            return phonenumbers.region_code_for_number(phonenumbers.parse(self.phone, None))
        except phonenumbers.NumberParseException:
            return None

    @property
    def people(self) -> list[Person]:
        return [*self.family, *self.colleagues, *self.friends]

    @model_validator(mode="after")
    def _has_a_circle(self) -> Persona:
        if not self.family and not self.friends:
            raise ValueError("a persona needs at least one family member or friend")
        if not self.colleagues:
            raise ValueError("a persona needs at least one colleague")
        return self


def _cast_problems(persona: Persona, src: Located) -> list[Problem]:
    """Cross-references inside a persona, each at the line that is wrong."""
    out: list[Problem] = []
    seen: dict[str, str] = {}
    for group in ("family", "colleagues", "friends"):
        for i, person in enumerate(getattr(persona, group)):
            loc = (group, i, "name")
            if person.name in seen:
                out.append(
                    Problem(
                        src.file,
                        src.line(loc),
                        f"{group}[{i}].name",
                        f"{person.name!r} is already listed under {seen[person.name]}",
                    )
                )
            seen.setdefault(person.name, group)
    colleagues = {p.name for p in persona.colleagues}
    for i, meeting in enumerate(persona.meetings):
        for j, name in enumerate(meeting.attendees):
            if name not in colleagues:
                loc = ("meetings", i, "with", j)
                out.append(
                    Problem(
                        src.file,
                        src.line(loc),
                        f"meetings[{i}].with[{j}]",
                        f"{name!r} is not among the colleagues",
                    )
                )
    return out


def resolve_persona_path(ref: str, base: Path | None = None) -> Path:
    """A persona file: a path (relative to ``base``) or the name of a bundled persona."""
    candidate = Path(ref)
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    if candidate.is_file():
        return candidate
    bundled = BUILTIN / f"{ref}.yaml"
    if "/" not in ref and bundled.is_file():
        return bundled
    return candidate


def bundled_personas() -> list[str]:
    return sorted(p.stem for p in BUILTIN.glob("*.yaml"))


def check_persona(src: Located) -> Persona | None:
    """Validate loaded YAML; problems are appended to ``src.problems``."""
    if src.data is None and src.problems:
        return None
    if not isinstance(src.data, dict):
        src.problems.append(Problem(src.file, 1, "(top)", "a persona must be a YAML mapping"))
        return None
    persona = validate(Persona, src)
    if persona is None:
        return None
    assert isinstance(persona, Persona)
    src.problems.extend(_cast_problems(persona, src))
    return None if src.problems else persona


def load_persona(path: Path) -> Persona:
    """Load and validate a persona file; raises :class:`ProblemsFound` listing every problem."""
    src = load_yaml(path)
    persona = check_persona(src)
    if persona is None:
        raise ProblemsFound(src.problems)
    return persona


# Facts a task may override by a short name: (field path in the persona, how to find it).
SHORTHANDS = ("rent", "salary", "employer_name")


def _money_text(value: object) -> str:
    """``1890`` -> ``"1890.00"`` (as persona files write amounts); other text unchanged."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def override_persona(base: dict, changes: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The persona ``base`` (raw YAML data) with a task's ``changes``; and what cannot apply.

    ``rent`` sets the amount of the bill whose category is rent, ``salary`` the bank's
    salary, ``employer_name`` the employer's name; any persona field may be given whole
    (``family: [...]``, ``bills: [...]``), and mapping fields (``employer``, ``bank``,
    ``routines``) merge key by key. The result is validated like a persona file.
    """
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    problems: list[tuple[str, str]] = []
    fields = set(Persona.model_fields)
    for key, value in changes.items():
        if key == "rent":
            bills = [dict(b) for b in data.get("bills") or [] if isinstance(b, dict)]
            rent = [b for b in bills if b.get("category") == "rent"]
            if not rent:
                problems.append((key, "the persona pays no bill with category rent"))
                continue
            rent[0]["amount"] = _money_text(value)
            data["bills"] = bills
        elif key == "salary":
            data["bank"] = {**(data.get("bank") or {}), "salary": _money_text(value)}
        elif key == "employer_name":
            data["employer"] = {**(data.get("employer") or {}), "name": value}
        elif key not in fields:
            known = ", ".join([*SHORTHANDS, *sorted(fields)])
            problems.append((key, f"unknown persona fact; expected one of {known}"))
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data, problems


FACT = re.compile(r"\{\{\s*persona\.([A-Za-z0-9_.]+)\s*\}\}")


def persona_fact(persona: Persona, path: str) -> str:
    """A persona fact by dotted name, as text: ``rent``, ``name``, ``employer.name``,
    ``bank.account``, ``bills.<category>.payee``, ``family.<relation>.phone`` …"""
    parts = path.split(".")
    if parts == ["rent"]:
        parts = ["bills", "rent", "amount"]
    if parts == ["salary"]:
        parts = ["bank", "salary"]
    value: object = persona
    for i, part in enumerate(parts):
        if isinstance(value, list):
            key = "category" if parts[i - 1] == "bills" else "relation"
            hits = [x for x in value if getattr(x, key, None) == part]
            if not hits:
                raise KeyError(f"no {parts[i - 1]} entry with {key} {part!r}")
            value = hits[0]
        elif isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        elif isinstance(value, Persona) and part == "first_name":
            value = value.first_name
        else:
            raise KeyError(f"no persona fact {path!r}")
    if isinstance(value, BaseModel | list) or value is None:
        raise KeyError(f"persona fact {path!r} is not a single value")
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def fill_facts(data: object, persona: Persona | None) -> tuple[object, list[tuple[tuple, str]]]:
    """``data`` with every ``{{persona.FACT}}`` in its strings replaced; and what failed,
    each with where in ``data`` it is (a key path). Without a persona every fact fails."""
    wrong: list[tuple[tuple, str]] = []

    def walk(x: object, loc: tuple) -> object:
        if isinstance(x, str):

            def sub(m: re.Match[str]) -> str:
                if persona is None:
                    wrong.append(
                        (loc, f"{m.group(0)}: the task has no persona (events.persona) to read")
                    )
                    return m.group(0)
                try:
                    return persona_fact(persona, m.group(1))
                except KeyError as exc:
                    wrong.append((loc, str(exc.args[0])))
                    return m.group(0)

            return FACT.sub(sub, x)
        if isinstance(x, list):
            return [walk(v, (*loc, i)) for i, v in enumerate(x)]
        if isinstance(x, dict):
            return {k: walk(v, (*loc, k)) for k, v in x.items()}
        return x

    return walk(data, ()), wrong
