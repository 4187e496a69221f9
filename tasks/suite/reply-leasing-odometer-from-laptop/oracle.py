"""Reference solution: the newest reading from the laptop's note, a reply (not reply all)
in the phone's Email app."""

import re


def solve(env):
    note = env.read_file("laptop", "/home/user/notes/auto.md")
    rows = re.findall(r"\| (\d{4}-\d\d-\d\d) \| (\d+) ", note)
    assert rows, note
    reading = max(rows)[1]
    env.launch("phone", "mail")
    env.tap_text("phone", "Jährliche Kilometerabfrage", regex=True)
    env.see("phone", "LV-88213")
    env.tap_text("phone", "Reply")
    env.type(
        "phone",
        f"Guten Tag, der Kilometerstand von B-MF 2207 am 14.03.2026: {reading} km. "
        "Viele Grüße, Maya Fischer",
    )
    env.tap_desc("phone", "Send")
