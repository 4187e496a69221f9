"""Believable lives: numbers in the persona's country, trades that fit it, persona facts a
task can override, and planted conflicts that never contradict the task's plot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.events import EVENT_ADAPTER
from tasks.folder import check_task, load_task
from tasks.generator import GeneratorSettings, generate, without_contradictions
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
    return out


@settings(max_examples=12, deadline=None)
@given(
    name=st.sampled_from(sorted(PERSONAS)),
    seed=st.integers(0, 10_000),
    noise=st.floats(0.5, 3.0),
)
def test_no_number_outside_the_personas_country_unless_the_persona_says_so(name, seed, noise):
    persona = PERSONAS[name]
    abroad = {p.phone for p in persona.people if p.abroad}
    stream = generate(persona, GeneratorSettings(days=30, seed=seed, noise=noise), _now(persona))
    for kind, number in _numbers(stream):
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
