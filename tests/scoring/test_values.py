"""Reading values from what the agent said, and ``message`` checks built on it: a time,
a date or an amount is one value; the right value in another spelling passes and a near
miss (a minute, a day, a cent off) fails."""

from __future__ import annotations

import itertools
from datetime import date
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from rig.env import Message
from rig.world import World
from scoring.evaluate import Scorer
from scoring.values import dates, numbers, read_values, times
from tasks.checks import CheckSpec

CHECK = TypeAdapter(CheckSpec)


def said(text: str, kind: str = "notify") -> list[Message]:
    return [Message(kind, text, 1, "")]


def passes(check: dict, text: str, kind: str = "notify") -> bool:
    task = SimpleNamespace(checks=[CHECK.validate_python({"kind": "message", **check})], safety=[])
    return Scorer(task, World()).score(said(text, kind)).checks[0].passed


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [
        ("pick up Emil at 12:15", [(12, 15)]),
        ("at 7:05pm", [(19, 5)]),
        ("at 7:05 p.m.", [(19, 5)]),
        ("12 am", [(0, 0)]),
        ("12:30 pm", [(12, 30)]),
        ("16.00 Uhr", [(16, 0)]),
        ("um 16 Uhr", [(16, 0)]),
        ("16h00", [(16, 0)]),
        ("4 pm", [(16, 0)]),
        ("15:00-16:30", [(15, 0), (16, 30)]),
        ("2026-03-04T10:00", [(10, 0)]),
        ("12.50", []),  # a decimal, not ten to one
        ("123:45", []),
    ],
)
def test_times_are_one_value(text, want):
    assert times(text) == want


@pytest.mark.parametrize(
    "text, want",
    [
        ("2026-03-04", [(2026, 3, 4)]),
        ("04.03.2026", [(2026, 3, 4)]),
        ("on 17.03. at 10:00", [(None, 3, 17)]),
        ("Termin Fr 20.03., 8–12 Uhr", [(None, 3, 20)]),  # a comma after the date
        ("04/03", [(None, 3, 4)]),
        ("25/12/26", [(2026, 12, 25)]),
        ("Thursday, 19 March 2026", [(2026, 3, 19)]),
        ("the 4th of March", [(None, 3, 4)]),
        ("March 4th, 2026", [(2026, 3, 4)]),
        ("am 18. März", [(None, 3, 18)]),
        ("Wed 18 Mar 2026 09:00", [(2026, 3, 18)]),
        ("3.5 kg", []),
    ],
)
def test_dates_are_one_value(text, want):
    assert dates(text) == want


def test_slash_dates_follow_the_date_order():
    assert dates("04/03", "mdy") == [(None, 4, 3)]
    assert dates("25/12", "mdy") == [(None, 12, 25)]  # only one reading is a date


@pytest.mark.parametrize(
    "text, want",
    [
        ("12:15", []),
        ("2026-03-04", []),
        ("04/03", []),
        ("12.50", [12.5]),
        ("$12.50", [12.5]),
        ("12,50 €", [12.5]),
        ("1,234.50 EUR", [1234.5]),
        ("1.234,50 €", [1234.5]),
        ("CHF 1'234.50", [1234.5]),
        ("1,250", [1250.0]),
        ("1,234,567", [1234567.0]),
        ("1.234", [1.234]),
        ("12,50 € and 3.75 and -2", [12.5, 3.75, -2.0]),
        ("-12.50", [-12.5]),
        ("INC-2291 and 3-4 people", [2291.0, 3.0, 4.0]),
        ("The total is 96.40.", [96.4]),
        ("It costs 12.10.", [12.1]),  # also 12 October: both readings are kept
        ("AC 0403 Wed 18 Mar 2026 09:00", [403.0]),
    ],
)
def test_numbers_do_not_split_times_dates_or_amounts(text, want):
    assert numbers(text) == want


def test_every_character_belongs_to_at_most_one_value():
    text = "Moved to 2026-03-18 at 16:00, 1,234.50 € (was 04/03, 7:05pm) 18 March"
    spans = [v.span for v in read_values(text)]
    assert [v.kind for v in read_values(text)] == [
        "date", "time", "number", "date", "time", "date"
    ]  # fmt: skip
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.text(st.characters(categories=["L", "Zs"]), max_size=8),
)
def test_a_written_time_reads_back(hour, minute, words):
    text = f"{words} {hour:02d}:{minute:02d}, {words}"
    assert times(text) == [(hour, minute)]
    assert numbers(text) == []


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_an_amount_with_grouping_reads_back(amount):
    english = f"{amount:,.2f}"
    german = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    for text in (f"total {english} €", f"Summe {german} €"):
        assert numbers(text) == [pytest.approx(float(amount))], text


# -- message checks ----------------------------------------------------------------------------


def test_a_time_check_accepts_other_spellings_and_rejects_a_near_miss():
    check = {"times": ["16:00"]}
    for text in ("at 16:00", "at 4 pm", "at 4:00 PM", "um 16.00 Uhr", "from 16:00-17:00"):
        assert passes(check, text), text
    for text in ("at 16:01", "at 6 pm", "at 15:00", "at 4 am", "16.00", "room 1600"):
        assert not passes(check, text), text


def test_a_number_check_is_not_met_by_part_of_a_time_or_date():
    assert passes({"numbers": [{"value": 15}]}, "15 people")
    assert not passes({"numbers": [{"value": 15}]}, "Emil at 12:15")
    assert not passes({"numbers": [{"value": 15}]}, "moved to 15:00")
    assert not passes({"numbers": [{"value": 3}]}, "on 2026-03-04")
    assert not passes({"numbers": [{"value": 4}]}, "on 04/03")
    assert passes({"numbers": [{"value": 1234.5, "tolerance": 0.001}]}, "1.234,50 € due")
    assert not passes({"numbers": [{"value": 1234.5}]}, "1.234,60 € due")


def test_a_date_check_accepts_other_spellings_and_rejects_a_near_miss():
    check = {"dates": ["2026-03-19"]}
    for text in ("Thu 19 March", "2026-03-19", "19.03.2026", "March 19th", "19/03", "19.03."):
        assert passes(check, text), text
    for text in ("Thu 18 March", "2026-03-18", "19.03.2025", "20/03", "19 April"):
        assert not passes(check, text), text
    assert passes({**check, "date_order": "mdy"}, "03/19")
    assert not passes({"dates": ["2026-04-03"]}, "04/03")  # day first by default
    assert passes({"dates": ["2026-04-03"], "date_order": "mdy"}, "04/03")


def test_a_time_keyword_does_not_match_inside_a_longer_number():
    check = {"keywords": ["12:15"]}
    assert passes(check, "pick up Emil at 12:15.")
    assert passes(check, "pick up Emil at 12:15pm")
    assert not passes(check, "pick up Emil at 12:150")
    assert not passes(check, "pick up Emil at 112:15")
    assert not passes(check, "pick up Emil at 12:16")
    assert not passes({"keywords": ["15"]}, "at 15:00")
    assert passes({"keywords": ["HUK"]}, "HUK-COBURG")  # words still match inside words


def test_the_schema_stays_compatible_and_explains_bad_times():
    old = {"kind": "message", "channel": "answer", "numbers": [{"value": 452, "tolerance": 0}]}
    assert CHECK.validate_python(old).times == []
    with pytest.raises(ValidationError, match="YAML reads 16:00 as 960"):
        CHECK.validate_python({"kind": "message", "times": [960]})
    with pytest.raises(ValidationError, match="not HH:MM"):
        CHECK.validate_python({"kind": "message", "times": ["25:00"]})
    with pytest.raises(ValidationError, match="give keywords, entities or numbers"):
        CHECK.validate_python({"kind": "message"})
    assert CHECK.validate_python({"kind": "message", "dates": [date(2026, 3, 19)]}).dates
