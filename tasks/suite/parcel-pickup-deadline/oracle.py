"""Reference solution: open the DHL thread, read the newest notice, notify."""

import re


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", "DHL")
    texts = env.see("phone", "Packstation 128")
    newest = [t for t in texts if "Packstation 128" in t][-1]
    m = re.search(r"Abholung bis (\d\d\.\d\d\.)", newest)
    assert m, newest
    env.notify(
        f"A parcel is waiting at Packstation 128 (Boxhagener Str. 40); pick it up by "
        f"{m.group(1)}2026, after that it goes back to the sender. PIN 5820."
    )
