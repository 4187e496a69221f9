"""Reference solution: read the practice's newest SMS, delete the old entry and create
the new one on the new day, all through the calendar app.

(Editing the date and times in place works too, but erasing three fields one delete key
at a time costs more steps than the task's limit leaves after reading the SMS.)
"""

from rig import actions as A


def tap_last(env, text: str) -> None:
    """Tap the last element showing ``text`` (a dialog's button sits above the screen's)."""
    env.screen_text("phone")
    ids = [e.id for e in env.env.elements("phone") if e.text == text]
    assert ids, f"nothing shows {text!r}"
    env.do(A.Tap(device="phone", element=ids[-1]))


def solve(env):
    env.launch("phone", "messages")
    env.tap_text("phone", "+49 30 2900 4411")
    env.see("phone", "Fr 20.03. um 08:00")
    env.launch("phone", "calendar")
    env.tap_text("phone", "Dentist – Dr. Baumann")
    env.tap_text("phone", "Delete")
    tap_last(env, "Delete")  # the confirmation dialog's button
    assert "Dentist – Dr. Baumann" not in env.screen_text("phone")
    env.tap_text("phone", "Day")
    env.tap_until("phone", "Next day", shown="Fri, Mar 20, 2026")
    env.tap_desc("phone", "New event")
    env.see("phone", "2026-03-20", "08:00")
    env.tap_text("phone", "Title")
    env.type("phone", "Dentist – Dr. Baumann")
    env.tap_text("phone", "Location")
    env.type("phone", "Boxhagener Str. 12, 10245 Berlin")
    env.tap_text("phone", "Save")
