"""Reference solution: read this year's letter on the laptop, then create the event
from the calendar's New event form, replacing its default date and times."""

import re


def solve(env):
    letter = env.shell("laptop", "cat ~/Documents/Post/2026-03-10_Schornsteinfeger.txt").stdout
    when = re.search(
        r"(\d\d)\.(\d\d)\.(\d{4}), (\d\d:\d\d) Uhr \(Dauer ca\. (\d+) Minuten\)", letter
    )
    assert when, letter
    day, month, year, start, minutes = when.groups()
    hh, mm = (int(x) for x in start.split(":"))
    end_min = hh * 60 + mm + int(minutes)
    end = f"{end_min // 60:02d}:{end_min % 60:02d}"
    env.launch("phone", "calendar")
    env.tap_desc("phone", "New event")
    texts = env.screen_text("phone")
    date = next(t for t in texts if re.fullmatch(r"\d{4}-\d\d-\d\d", t))
    shown_start, shown_end = [t for t in texts if re.fullmatch(r"\d\d:\d\d", t)][-2:]
    env.tap_text("phone", "Title")
    env.type("phone", "Schornsteinfeger")
    env.retype("phone", date, f"{year}-{month}-{day}")
    if shown_start != start:
        env.retype("phone", shown_start, start)
    env.retype("phone", shown_end, end)
    env.tap_text("phone", "Description")
    env.type("phone", "Keller und Hausanschlussraum zugänglich machen")
    env.tap_text("phone", "Save")
