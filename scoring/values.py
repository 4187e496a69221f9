"""Reading the values an agent's prose states: numbers, clock times and dates.

A ``message`` check compares what the agent said with what the task expects, so
"12:15" must be one time (not the numbers 12 and 15), "2026-03-04" one date (not
2026, -3 and -4) and "1.234,50 €" one amount. The text is read left to right; at
each place the longest-established form wins: a date before a time before a
plain number, so every character belongs to at most one value.

Conventions (documented for task authors in the README's scoring section):

* times are read in 24-hour form unless ``am``/``pm`` follows; ``16:00``,
  ``16.00 Uhr``, ``16h00``, ``16 Uhr``, ``4 pm``, ``4:00 p.m.`` are all 16:00;
  a dot between hour and minutes makes a time only with ``Uhr``/``am``/``pm``
  (``12.50`` alone is a decimal);
* dates: ISO ``2026-03-04``, ``04.03.2026`` and ``04.03.`` (day first),
  ``4 March``, ``March 4th, 2026`` (English and German month names), and
  ``04/03`` read in the check's ``date_order`` (day first by default); without a
  year, a dotted date needs two digits each (``17.03.``, also before a comma as in
  "Fr 20.03., 8–12 Uhr"; ``3.5.`` stays a number),
  and ``12.10.`` is read both as 12 October and as the number 12.1, since a
  sentence may end right after an amount;
* numbers: ``1,234.50``, ``1.234,50``, ``1'234.50`` and ``12,50`` are one value;
  a lone comma with three digits after it groups thousands (``1,250``); a minus
  sign counts only where it does not join two words (``INC-2291`` is 2291).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DateOrder = Literal["dmy", "mdy"]

_MONTHS = {
    "january": 1, "jan": 1, "januar": 1, "jänner": 1,
    "february": 2, "feb": 2, "februar": 2,
    "march": 3, "mar": 3, "märz": 3, "maerz": 3, "mär": 3, "mrz": 3,
    "april": 4, "apr": 4,
    "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juni": 6,
    "july": 7, "jul": 7, "juli": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12, "dezember": 12, "dez": 12,
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_START = r"(?<![\w])(?<!\d[.,:/'])"  # a value never starts inside a word or another value
_TSTART = r"(?<![^\WT])(?<!\d[.,:/'])"  # ... except a time right after ISO's "T"
_END = r"(?![\w])(?![.,:/']\d)"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_AMPM = r"(?:[ap]\.?\s?m\b\.?)"

_PATTERN = re.compile(
    "|".join(
        [
            # dates
            rf"{_START}(?P<iso_y>\d{{4}})-(?P<iso_m>{_MON})-(?P<iso_d>{_DAY})(?!\d)",
            rf"{_START}(?P<dot_d>{_DAY})\.(?P<dot_m>{_MON})\.(?P<dot_y>\d{{4}}|\d{{2}}){_END}",
            rf"{_START}(?P<dd_d>0[1-9]|[12]\d|3[01])\.(?P<dd_m>0[1-9]|1[0-2])\.(?![\w.])(?!,\d)",
            rf"{_START}(?P<sl_a>\d{{1,2}})/(?P<sl_b>\d{{1,2}})(?:/(?P<sl_y>\d{{4}}|\d{{2}}))?{_END}",
            rf"{_START}(?P<nd_d>{_DAY})(?:st|nd|rd|th|\.)?\s+(?:of\s+)?(?P<nd_m>{_MONTH})"
            rf"(?:,?\s+(?P<nd_y>\d{{4}}){_END})?",
            rf"(?<![\w])(?P<md_m>{_MONTH})\s+(?P<md_d>{_DAY})(?:st|nd|rd|th)?{_END}"
            rf"(?:,?\s+(?P<md_y>\d{{4}}){_END})?",
            # times
            rf"{_TSTART}(?P<t_h>[01]?\d|2[0-3])(?P<t_sep>[:.h])(?P<t_m>[0-5]\d)(?::[0-5]\d)?"
            rf"(?:\s?(?P<t_ampm>{_AMPM})|\s?(?P<t_uhr>uhr\b))?(?!\d)",
            rf"{_START}(?P<h_h>[01]?\d|2[0-3])(?:\s?(?P<h_ampm>{_AMPM})|\s?uhr\b)",
            # numbers
            rf"(?P<n_neg>(?<![\w-])[-−])?{_START}(?P<n>\d{{1,3}}(?:(?P<n_g>[,.'’])\d{{3}})"
            rf"(?:(?P=n_g)\d{{3}})*(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?!\d)",
        ]
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Value:
    """One value read from text: ``kind`` says which of the fields is set; ``span`` is
    where it was read (start, end offsets)."""

    kind: Literal["number", "time", "date"]
    span: tuple[int, int]
    number: float | None = None
    time: tuple[int, int] | None = None  # (hour 0-23, minute)
    date: tuple[int | None, int, int] | None = None  # (year or None, month, day)


def read_values(text: str, date_order: DateOrder = "dmy") -> list[Value]:
    """Every number, time and date in ``text``, in order."""
    out: list[Value] = []
    for m in _PATTERN.finditer(text):
        value = _value(m, date_order)
        if value is not None:
            out.append(value)
    return out


def numbers(text: str) -> list[float]:
    return [v.number for v in read_values(text) if v.number is not None]


def times(text: str) -> list[tuple[int, int]]:
    return [v.time for v in read_values(text) if v.time is not None]


def dates(text: str, date_order: DateOrder = "dmy") -> list[tuple[int | None, int, int]]:
    return [v.date for v in read_values(text, date_order) if v.date is not None]


def _value(m: re.Match[str], order: DateOrder) -> Value | None:
    g = m.groupdict()
    span = m.span()
    if g["iso_y"]:
        return _date(span, int(g["iso_y"]), int(g["iso_m"]), int(g["iso_d"]))
    if g["dot_d"]:
        return _date(span, _year(g["dot_y"]), int(g["dot_m"]), int(g["dot_d"]))
    if g["dd_d"]:  # "12.10." closing a sentence may be an amount as well: keep both readings
        value = _date(span, None, int(g["dd_m"]), int(g["dd_d"]))
        return value and Value("date", span, number=float(m.group(0)[:-1]), date=value.date)
    if g["sl_a"]:
        a, b = int(g["sl_a"]), int(g["sl_b"])
        day, month = (a, b) if order == "dmy" else (b, a)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            day, month = month, day  # 25/12 in a month-first text still means Christmas
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        return _date(span, _year(g["sl_y"]), month, day)
    if g["nd_d"]:
        return _date(span, _year(g["nd_y"]), _month(g["nd_m"]), int(g["nd_d"]))
    if g["md_m"]:
        return _date(span, _year(g["md_y"]), _month(g["md_m"]), int(g["md_d"]))
    if g["t_h"]:
        if g["t_sep"] == "." and not (g["t_ampm"] or g["t_uhr"]):
            return _decimal(m)
        return _time(span, int(g["t_h"]), int(g["t_m"]), g["t_ampm"])
    if g["h_h"]:
        return _time(span, int(g["h_h"]), 0, g["h_ampm"])
    return _number(span, g["n"], bool(g["n_neg"]))


def _decimal(m: re.Match[str]) -> Value:
    """``12.50`` that the time pattern saw first: it is a number."""
    raw = f"{m.group('t_h')}.{m.group('t_m')}"
    neg = m.start() > 0 and m.string[m.start() - 1] in "-−"
    neg = neg and not (m.start() > 1 and (m.string[m.start() - 2].isalnum()))
    return _number(m.span(), raw, neg)


def _number(span: tuple[int, int], raw: str, negative: bool) -> Value:
    seps = [c for c in raw if not c.isdigit()]
    if not seps:
        digits = raw
    elif len(set(seps)) > 1:  # 1,234.50 / 1.234,50 / 1'234.50: the last mark is the decimal one
        head, _, tail = raw[: raw.rfind(seps[-1])], seps[-1], raw[raw.rfind(seps[-1]) + 1 :]
        digits = re.sub(r"\D", "", head) + "." + tail
    elif len(seps) > 1 or seps[0] in "'’":  # 1,234,567 / 1.234.567 / 1'234
        digits = re.sub(r"\D", "", raw)
    elif seps[0] == "," and re.fullmatch(r"\d{1,3},\d{3}", raw):
        digits = raw.replace(",", "")  # 1,250: thousands
    else:
        digits = raw.replace(",", ".")  # 12,50 / 12.50 / 1.234
    value = float(digits)
    return Value("number", span, number=-value if negative else value)


def _time(span: tuple[int, int], hour: int, minute: int, ampm: str | None) -> Value | None:
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
    return Value("time", span, time=(hour, minute))


def _date(span: tuple[int, int], year: int | None, month: int, day: int) -> Value | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return Value("date", span, date=(year, month, day))


def _year(raw: str | None) -> int | None:
    if not raw:
        return None
    year = int(raw)
    return year + 2000 if year < 100 else year


def _month(raw: str) -> int:
    return _MONTHS[raw.rstrip(".").lower()]
