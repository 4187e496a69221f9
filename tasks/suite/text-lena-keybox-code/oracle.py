"""Reference solution: find the current code in the laptop's notes, then answer Lena in
her conversation on the phone."""

import re


def solve(env):
    note = env.shell("laptop", "grep -ril 'schlüsselbox' ~/notes | xargs cat")
    code = re.search(r"Neuer Code[^*]*\*\*(\d+)\*\*", note.stdout)
    assert code, note.stdout
    env.launch("phone", "messages")
    env.tap_text("phone", "Lena Albrecht")
    env.tap_text("phone", "Text message")
    env.type("phone", f"The key box code is {code.group(1)}.")
    env.tap_text("phone", "Send")
