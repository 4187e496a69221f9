"""Reference solution: the chosen colour from the laptop's renovation notes; in Markor,
open baumarkt.md, put the caret after the last line (a tap below the text), type the
line, save."""

import re


def solve(env):
    notes = env.read_file("laptop", "/home/user/Documents/Wohnung/renovierung-kinderzimmer.md")
    chosen = re.search(r"^- \*\*(RAL \d{4} [^*]+)\*\*, matt, (2 × 10 l)", notes, re.MULTILINE)
    assert chosen, notes
    env.launch("phone", "notes")
    env.tap_text("phone", "baumarkt.md")
    editor = env.find("phone", text=r"^# Baumarkt Samstag", regex=True)
    element = next(e for e in env.env.elements("phone") if e.id == editor)
    x1, _y1, x2, y2 = element.bounds
    env.tap("phone", (x1 + x2) // 2, y2 - 20)  # below the text: the end
    if not element.text.endswith("\n"):
        env.key("phone", "enter")  # a new line of its own
    env.type("phone", f"- Wandfarbe Kinderzimmer: {chosen.group(1)}, matt, {chosen.group(2)}")
    env.tap_text("phone", "Save")
    env.see("phone", "RAL 1015 Hellelfenbein")
