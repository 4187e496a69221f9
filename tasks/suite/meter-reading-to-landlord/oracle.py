"""Reference solution: find the readings on the laptop, reply in the SMS thread."""

import re


def solve(env):
    table = env.shell("laptop", "grep -rh 'kWh' -A4 ~/Documents/Wohnung/")
    rows = re.findall(r"\| (\d{4}-\d\d-\d\d) \| ([\d.]+) ", table.stdout)
    assert rows, table.stdout
    reading = max(rows)[1]
    env.launch("phone", "messages")
    env.tap_text("phone", "030 22017788")
    env.see("phone", "Stromzählerstand")
    env.tap_text("phone", "Text message")
    env.type("phone", f"Guten Tag, mein Stromzählerstand vom 14.03.2026: {reading} kWh.")
    env.tap_text("phone", "Send")
