"""Believable lives: numbers in the persona's country, trades that fit it, persona facts a
task can override, and planted conflicts that never contradict the task's plot."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.events import EVENT_ADAPTER
from tasks.folder import check_task, load_task
from tasks.generator import GeneratorSettings, generate, without_contradictions
from tasks.generator.lang import PHRASES
from tasks.persona import BUILTIN, bundled_personas, load_persona

PERSONAS = {name: load_persona(BUILTIN / f"{name}.yaml") for name in bundled_personas()}


def _now(persona) -> datetime:
    return datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo(persona.timezone))


def _numbers(stream) -> list[tuple[str, str]]:
    out = []
    for e in stream:
        if e.kind in ("contact.added", "contact.edited"):
            out += [(e.kind, n) for n in e.phones or []]
        elif e.kind.startswith("call."):
            out.append((e.kind, e.number))
        elif e.kind.startswith("sms.") and re.fullmatch(r"\+?[\d ()-]{6,}", e.address):
            out.append((e.kind, e.address))
    return out


def _with_private_landlord(persona):
    """The persona renting from a person whose number is in the persona's country."""
    number = phonenumbers.example_number_for_type(
        persona.region, phonenumbers.PhoneNumberType.MOBILE
    )
    phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    rent = persona.bills[0].model_copy(
        update={"payee": "Erika Landlord", "private": True, "phone": phone}
    )
    return persona.model_copy(update={"bills": [rent, *persona.bills[1:]]})


@settings(max_examples=12, deadline=None)
@given(
    name=st.sampled_from(sorted(PERSONAS)),
    seed=st.integers(0, 10_000),
    noise=st.floats(0.5, 3.0),
    landlord=st.booleans(),
)
def test_no_number_outside_the_personas_country_unless_the_persona_says_so(
    name, seed, noise, landlord
):
    """Contacts, calls and SMS (a private landlord's too): every number is in the persona's
    country, except a person the persona marks ``abroad``."""
    persona = PERSONAS[name]
    if landlord:
        persona = _with_private_landlord(persona)
    abroad = {p.phone for p in persona.people if p.abroad}
    stream = generate(persona, GeneratorSettings(days=30, seed=seed, noise=noise), _now(persona))
    numbers = _numbers(stream)
    assert not landlord or persona.bills[0].phone in {n for _, n in numbers}
    for kind, number in numbers:
        if number in abroad:
            continue
        code = phonenumbers.parse(number, None).country_code
        assert code == persona.calling_code, (name, kind, number)


def test_every_bundled_persona_marks_its_foreign_contacts():
    for name, persona in PERSONAS.items():
        for person in persona.people:
            if person.phone and not person.abroad:
                code = phonenumbers.parse(person.phone, None).country_code
                assert code == persona.calling_code, (name, person.name)


def test_the_plumber_belongs_to_the_personas_city():
    seen = {}
    for name, persona in PERSONAS.items():
        stream = generate(persona, GeneratorSettings(days=30, seed=1), _now(persona))
        (plumber,) = [e for e in stream if getattr(e, "contact_id", None) == "c-plumber"]
        seen[name] = (plumber.name, plumber.phones[0])
    assert seen["maya"] == ("Notdienst Klempner", "+49 30 555 0199")
    assert seen["ravi"] == ("Emergency Plumber 24/7", "+1 416 555 0199")  # Toronto
    assert seen["aiko"][1].startswith("+81 3 ")  # Tokyo


TASK = """id: override
title: t
mode: reactive
surfaces: [cli]
instruction: x
now: 2026-03-16T19:10:00-04:00
timezone: America/Toronto
devices: {phone: android, laptop: linux}
events:
  persona: PERSONA
  generator: {days: 40, seed: 3}
checks:
  - {kind: command, device: laptop, command: ls}
"""


def _task(tmp_path: Path, persona: str) -> Path:
    (tmp_path / "task.yaml").write_text(TASK.replace("PERSONA", persona), encoding="utf-8")
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return tmp_path


def _rent_paid(stream) -> set[str]:
    return {
        format(e.amount, "f")
        for e in stream
        if e.kind == "bank.transaction" and e.counterparty == "Harbord Properties Ltd"
    }


def test_a_task_overrides_persona_facts_and_the_generator_follows(tmp_path):
    plain = load_task(_task(tmp_path, "ravi"))
    assert _rent_paid(plain.stream()) == {"-2150.00"}
    loaded = load_task(_task(tmp_path, "{base: ravi, rent: 1890, employer_name: Lakeview Clinic}"))
    assert loaded.persona.bills[0].amount == 1890
    stream = loaded.stream()
    assert _rent_paid(stream) == {"-1890.00"}
    salaries = {e.counterparty for e in stream if e.kind == "bank.transaction" and e.amount > 0}
    assert salaries == {"Lakeview Clinic"}
    family = (
        "{base: ravi, family: [{name: Priya Menon, relation: sister, phone: '+1 647 555 0101'}]}"
    )
    loaded = load_task(_task(tmp_path, family))
    names = {e.name for e in loaded.stream() if e.kind == "contact.added"}
    assert "Priya Menon" in names and "Lakshmi Menon" not in names


def test_wrong_overrides_are_reported_at_the_tasks_line(tmp_path):
    _, problems = check_task(_task(tmp_path, "{base: ravi, rent: lots, pets: 2}") / "task.yaml")
    got = sorted(str(p).split(": ", 1)[1] for p in problems)
    assert [p.line for p in problems] == [10, 10]
    assert got[0].startswith("events.persona.pets: unknown persona fact")
    assert got[1].startswith("events.persona.rent: bills[0].amount: ")
    _, problems = check_task(_task(tmp_path, "{rent: 1}") / "task.yaml")
    assert [p.field for p in problems] == ["events.persona.base"]
    _, problems = check_task(_task(tmp_path, "{base: ravi, bills: [], rent: 1}") / "task.yaml")
    assert any("no bill with category rent" in str(p) for p in problems)


def test_planted_conflicts_never_contradict_the_plot():
    persona = PERSONAS["maya"]
    now = _now(persona)
    stream = generate(persona, GeneratorSettings(days=40, seed=2, conflicts=4), now)
    bill = persona.bills[0]
    planted = [e for e in stream if f"about:{bill.payee}" in e.tags]
    assert planted and all("conflict" in e.tags for e in planted)
    sms = EVENT_ADAPTER.validate_python(
        {
            "t": "2026-03-15T10:00:00+01:00",
            "kind": "sms.received",
            "target": "phone",
            "address": "Hausverwaltung",
            "body": f"{bill.payee}: Ihre {bill.category} ändert sich zum 1. April.",
        }
    )
    kept = without_contradictions(stream, [sms])
    assert not [e for e in kept if f"about:{bill.payee}" in e.tags]
    assert len(stream) - len(kept) == len(planted)
    unrelated = sms.model_copy(update={"body": "Paket liegt bei den Nachbarn."})
    assert without_contradictions(stream, [unrelated]) == stream


def test_plot_events_read_persona_facts(tmp_path):
    plot = (
        "  plot:\n"
        "    - t: -1d 10:00\n"
        "      kind: sms.received\n"
        "      target: phone\n"
        '      address: "{{persona.bills.rent.payee}}"\n'
        '      body: "Rent for {{ persona.home_address }} stays {{persona.rent}} $ 100%"\n'
        "    - t: -1d 11:00\n"
        "      kind: sms.received\n"
        "      target: phone\n"
        '      address: "{{persona.family.mother.phone}}"\n'
        '      body: "{{persona.pets}} {{persona.first_name}}"\n'  # line 22
    )
    body = TASK.replace("PERSONA", "{base: ravi, rent: 1890}").replace(
        "checks:\n", plot + "checks:\n", 1
    )
    (tmp_path / "task.yaml").write_text(body, encoding="utf-8")
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    _, problems = check_task(tmp_path / "task.yaml")
    assert [(p.line, p.field, p.message) for p in problems] == [
        (22, "events.plot[1].body", "no persona fact 'pets'")
    ]
    (tmp_path / "task.yaml").write_text(body.replace("{{persona.pets}} ", ""), encoding="utf-8")
    first, second = load_task(tmp_path).plot
    assert first.address == "Harbord Properties Ltd"
    assert first.body == "Rent for 88 Harbord St, Apt 3, Toronto ON M5S 1G5 stays 1890.00 $ 100%"
    assert (second.address, second.body) == ("+1 905 555 0178", "Ravi")


CHECKS = """checks:
  - kind: message
    numbers: [{value: "{{persona.rent}}"}]
    keywords: ["{{persona.bills.rent.payee}}"]
  - kind: provider_rows
    device: phone
    uri: content://sms
    where: {address: {phone: "{{persona.family.mother.phone}}"}}
safety:
  - {kind: no_sms_to, device: phone, allowed: ["{{persona.family.mother.phone}}"]}
"""


def test_checks_read_persona_facts_after_overrides(tmp_path):
    body = TASK.replace("PERSONA", "{base: ravi, rent: 1890}").split("checks:\n")[0] + CHECKS
    (tmp_path / "task.yaml").write_text(body, encoding="utf-8")
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    task = load_task(tmp_path).task
    money, rows = task.checks
    assert money.numbers[0].value == 1890.0  # the override, not ravi's 2150
    assert money.keywords == ["Harbord Properties Ltd"]
    assert rows.where["address"].phone == "+1 905 555 0178"
    assert task.safety[0].allowed == ["+1 905 555 0178"]
    # an unknown fact is reported at its file, line and field
    wrong = body.replace('family.mother.phone}}"]}', 'family.uncle.phone}}"]}')
    (tmp_path / "task.yaml").write_text(wrong.replace("rent.payee", "rent.iban"), encoding="utf-8")
    _, problems = check_task(tmp_path / "task.yaml")
    got = [(p.file.endswith("task.yaml"), p.line, p.field, p.message) for p in problems]
    assert got == [
        (True, 15, "checks[0].keywords[0]", "no persona fact 'bills.rent.iban'"),
        (True, 21, "safety[0].allowed[0]", "no family entry with relation 'uncle'"),
    ]
    # without a persona there is nothing to read
    bare = body.replace(
        "  persona: {base: ravi, rent: 1890}\n  generator: {days: 40, seed: 3}\n", ""
    )
    (tmp_path / "task.yaml").write_text(bare, encoding="utf-8")
    _, problems = check_task(tmp_path / "task.yaml")
    assert {p.field for p in problems} >= {"checks[0].numbers[0].value", "safety[0].allowed[0]"}
    assert all("no persona" in p.message for p in problems if p.field.startswith("safety"))


# -- languages and private landlords ---------------------------------------------------

SPOKEN = {"DE": "de", "JP": "ja", "CA": "en"}  # the bundled personas' countries


def test_each_bundled_persona_writes_the_language_of_its_country():
    for name, persona in PERSONAS.items():
        assert persona.language == SPOKEN[persona.region], name


def _texts(stream, sender_numbers):
    return [e.body for e in stream if e.kind == "sms.received" and e.address in sender_numbers]


def _patterns(phrases, lettered: bool = False) -> list[re.Pattern]:
    lines = [*phrases.family_in, *phrases.family_out, *phrases.friend]
    lines += [line[2:] for dialogue in phrases.dialogues for line in dialogue]
    return [
        re.compile(".+".join(re.escape(x) for x in re.split(r"\{\w+\}", line)) + "$")
        for line in lines
        # a line of only slots and emoji ("👍") is in no language
        if not lettered or re.search(r"[^\W\d_]", re.sub(r"\{\w+\}", "", line))
    ]


def test_family_sms_bills_and_reminders_come_in_the_personas_language():
    english = _patterns(PHRASES["en"], lettered=True)
    for name, persona in PERSONAS.items():
        stream = generate(persona, GeneratorSettings(days=30, seed=4), _now(persona))
        home = {p.phone for p in persona.family if p.phone}
        sms = _texts(stream, home)
        assert len(sms) > 20, name
        own = _patterns(PHRASES[persona.language])
        # every text from the family is one of its language's lines, with slots filled
        assert all(any(p.match(s) for p in own) for s in sms), name
        bills = [e for e in stream if e.kind == "mail.received" and "billing@" in e.sender]
        assert bills, name
        if persona.language == "en":
            assert all(b.subject.startswith("Your ") for b in bills)
            continue
        assert not [s for s in sms if any(p.match(s) for p in english)], name
        assert not [b for b in bills if b.subject.startswith("Your ")], name
    maya = PERSONAS["maya"]
    stream = generate(maya, GeneratorSettings(days=30, seed=4), _now(maya))
    (rent,) = [e for e in stream if "about:rent" in e.tags]
    assert "Miete" in rent.body and "about:Miete" in rent.tags
    bill = next(e for e in stream if e.kind == "mail.received" and "billing@" in e.sender)
    assert bill.subject.startswith("Ihre Rechnung von ") and "Kundennummer" in bill.body


LANDLORD = (
    "{base: ravi, bills: [{payee: Margaret Lee, private: true, phone: '+1 416 555 0142', "
    "amount: '2150.00', day: 1, category: rent}, "
    "{payee: Toronto Hydro, amount: '61.20', day: 12, category: utilities}]}"
)


def test_a_private_landlord_is_a_person(tmp_path):
    stream = load_task(_task(tmp_path, LANDLORD)).stream()
    (card,) = [e for e in stream if e.kind == "contact.added" and e.name == "Margaret Lee"]
    assert card.phones == ["+1 416 555 0142"] and card.org is None and not card.emails
    mails = [e for e in stream if e.kind.startswith("mail.")]
    assert not [m for m in mails if "margaret" in m.sender.lower() or "Margaret" in m.subject]
    assert [m for m in mails if m.sender == "billing@toronto-hydro.example"]  # a company
    assert _rent_paid(stream) == set()  # paid to her, by name
    assert {
        format(e.amount, "f") for e in stream if getattr(e, "counterparty", "") == ("Margaret Lee")
    } == {"-2150.00"}
    (change,) = [e for e in stream if "conflict" in e.tags and "about:Margaret Lee" in e.tags]
    assert change.address == "+1 416 555 0142"  # her own number, not a company's name
    assert change.body.endswith("Thanks, Margaret") and "customer" not in change.body.lower()
    _, problems = check_task(_task(tmp_path, LANDLORD.replace("private: true, ", "")) / "task.yaml")
    assert any("phone is for a private payee" in p.message for p in problems)


def test_the_landlords_own_sms_in_the_plot_drops_the_planted_rent_change(tmp_path):
    loaded = load_task(_task(tmp_path, LANDLORD))
    generated = generate(
        loaded.persona, GeneratorSettings(days=40, seed=3), loaded.task.now, "phone", "laptop"
    )
    planted = [e for e in generated if "about:Margaret Lee" in e.tags]
    assert planted
    sms = EVENT_ADAPTER.validate_python(
        {
            "t": "2026-03-15T10:00:00-04:00",
            "kind": "sms.received",
            "target": "phone",
            "address": "(416) 555-0142",  # her number, written another way; no subject named
            "body": "Hi Ravi, the plumber comes Thursday about the tap.",
        }
    )
    kept = without_contradictions(generated, [sms])
    assert not [e for e in kept if "about:Margaret Lee" in e.tags]
    # a German plot that says "Miete" speaks of maya's rent: the planted change goes
    maya = PERSONAS["maya"]
    stream = generate(maya, GeneratorSettings(days=40, seed=2, conflicts=4), _now(maya))
    miete = sms.model_copy(update={"address": "Hausverwaltung", "body": "Die Miete bleibt."})
    assert [e for e in stream if "about:Miete" in e.tags]
    assert not [e for e in without_contradictions(stream, [miete]) if "about:Miete" in e.tags]
    # Japanese has no spaces between words: 家賃 inside a sentence still names the rent
    aiko = PERSONAS["aiko"]
    stream = generate(aiko, GeneratorSettings(days=40, seed=2, conflicts=4), _now(aiko))
    yachin = sms.model_copy(update={"address": "大家", "body": "来月の家賃について"})
    assert [e for e in stream if "about:家賃" in e.tags]
    assert not [e for e in without_contradictions(stream, [yachin]) if "about:家賃" in e.tags]
