"""Reference solution: the code from the laptop's note, Anja's address from the phone's
contacts, a new mail in the phone's Email app."""

import re


def solve(env):
    note = env.read_file("laptop", "/home/user/notes/wohnung.md")
    current = re.search(r"Code seit [^*]*\*\*(\d{4})\*\*", note)
    assert current, note
    env.launch("phone", "contacts")
    env.tap_text("phone", "Anja Kowalczyk")
    env.see("phone", "anja.kowalczyk@putzfee.example")
    env.launch("phone", "mail")
    env.tap_desc("phone", "Compose")
    env.tap_text("phone", "To")
    env.type("phone", "anja.kowalczyk@putzfee.example")
    env.tap_text("phone", "Subject")
    env.type("phone", "Schlüsselkasten-Code")
    env.tap_text("phone", "Compose email")
    env.type(
        "phone",
        f"Hallo Anja, der Code für den Schlüsselkasten im Hof ist {current.group(1)}. "
        "Danke und viele Grüße, Maya",
    )
    env.tap_desc("phone", "Send")
