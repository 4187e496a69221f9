"""Rows as a task describes them: column conditions, phone numbers, time windows.

A provider or database row is a ``{column: value}`` mapping; a ``where`` maps columns
to a value (equality, compared as text so ``1`` matches ``"1"``), a :class:`Cond`, or
a list of Conds that must all hold. Phone numbers are compared in E.164 form
(``phonenumbers``), never by their last digits, so a number in another country with
the same tail is a different number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import phonenumbers

from tasks.checks import Cond


def e164(number: str, region: str | None = None) -> str | None:
    """``number`` in E.164 (``+493055501990``), read in ``region`` when written nationally;
    None when it is not a phone number."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_of(number: str) -> str | None:
    """The country (ISO 3166 alpha-2) an international number belongs to."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None


@cache
def _zone_table() -> dict[str, str]:
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        path = Path("/usr/share/zoneinfo/zone.tab")
        text = path.read_text("utf-8") if path.is_file() else ""
    out = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#"):
            out[parts[2]] = parts[0]
    return out


def region_for_zone(tz: str | None) -> str | None:
    """The country of an IANA zone (``Europe/Berlin`` -> ``DE``): where a device's national
    numbers are dialled."""
    return None if tz is None else _zone_table().get(tz)


def same_phone(expected: str, got: str, region: str | None = None) -> bool:
    """``got`` (as stored, maybe national, read in ``region``: the device's country) is the
    number ``expected`` (international, or national in ``region``)."""
    region = region or region_of(expected)
    want = e164(expected, region)
    return want is not None and e164(got, region) == want


def same_sms_address(expected: str, got: str, region: str | None = None) -> bool:
    """An SMS address is ``expected``: both read as phone numbers in ``region`` (the
    device's country) and compared in E.164, so "0160 9876 5432" and "+49 160 98765432" are
    one number and "+43 160 9876 5432" is another; addresses that are no phone number (a
    short code, a sender name) compare by their digits, or as text when they have none."""
    a, b = e164(expected, region), e164(got, region)
    if a is not None and b is not None:
        return a == b
    da, db = re.sub(r"\D", "", expected), re.sub(r"\D", "", got)
    if da or db:
        return da == db
    return expected.strip().casefold() == got.strip().casefold() != ""


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(b, bool):
        b = int(b)
    if isinstance(a, bool):
        a = int(a)
    return str(a) == str(b)


def _epoch(value: Any, unit: str) -> float | None:
    try:
        n = float(value)
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(str(value)).timestamp()
        except ValueError:
            return None
    return n / 1000 if unit == "ms" else n


def cond_problem(value: Any, c: Cond, region: str | None = None) -> str | None:
    """Why ``value`` fails ``c``, or None when every condition holds."""
    text = "" if value is None else str(value)
    low = text.lower()
    if c.is_null is not None and (value is None) != c.is_null:
        return "is null" if value is None else "is not null"
    if "equals" in c.model_fields_set and not _same(value, c.equals):
        return f"{text!r} is not {c.equals!r}"
    if c.any_of is not None and not any(_same(value, v) for v in c.any_of):
        return f"{text!r} is none of {c.any_of!r}"
    for part in c.contains:
        if part.lower() not in low:
            return f"{text!r} lacks {part!r}"
    if c.contains_any and not any(p.lower() in low for p in c.contains_any):
        return f"{text!r} contains none of {c.contains_any!r}"
    for part in c.not_contains:
        if part.lower() in low:
            return f"{text!r} contains {part!r}"
    if c.regex is not None and re.search(c.regex, text) is None:
        return f"{text!r} does not match /{c.regex}/"
    if c.phone is not None and not same_phone(c.phone, text, c.region or region):
        return f"{text!r} is not the number {c.phone}"
    if c.after is not None or c.before is not None:
        t = _epoch(value, c.unit)
        if t is None:
            return f"{text!r} is not a time"
        if c.after is not None and t < c.after.timestamp():
            return f"{text!r} is before {c.after.isoformat()}"
        if c.before is not None and t > c.before.timestamp():
            return f"{text!r} is after {c.before.isoformat()}"
    return None


def column_problem(value: Any, spec: Any, region: str | None = None) -> str | None:
    if isinstance(spec, Cond):
        return cond_problem(value, spec, region)
    if isinstance(spec, list):
        for c in spec:
            why = cond_problem(value, c, region)
            if why:
                return why
        return None
    return None if _same(value, spec) else f"{value!r} is not {spec!r}"


def row_problem(
    row: Mapping[str, Any], where: Mapping[str, Any], region: str | None = None
) -> str | None:
    """Why ``row`` does not fit ``where``; ``region`` is the device's country (phones)."""
    for column, spec in where.items():
        why = column_problem(row.get(column), spec, region)
        if why:
            return f"{column}: {why}"
    return None


def matches(row: Mapping[str, Any], where: Mapping[str, Any], region: str | None = None) -> bool:
    return row_problem(row, where, region) is None


def columns_of(*wheres: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(c for w in wheres for c in w))
