"""Reference solution: March's hours from the Markor note, the rate from March on from
the laptop's agreement, the sum to Lina in her conversation."""

import re
from decimal import Decimal


def _num(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def solve(env):
    deal = env.shell("laptop", "cat ~/Documents/Haushalt/Babysitting-Vereinbarung.md").stdout
    rate = re.search(r"ab 01\.03\.2026: ([\d,]+) €", deal)
    assert rate, deal
    env.launch("phone", "notes")
    env.tap_text("phone", "babysitting.md")
    note = "\n".join(env.see("phone", "03.03."))
    hours = [_num(h) for h in re.findall(r"^- \d\d\.03\. ([\d,]+) h", note, re.MULTILINE)]
    assert len(hours) == 4, note
    total = sum(hours) * _num(rate.group(1))
    amount = f"{total:.2f}".replace(".", ",")
    env.launch("phone", "messages")
    env.tap_text("phone", "Lina Petersen")
    env.tap_text("phone", "Text message")
    said = f"Hallo Lina, für März sind es {sum(hours).normalize()} Stunden, also {amount} €."
    env.type("phone", said)
    env.tap_text("phone", "Send")
