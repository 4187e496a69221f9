"""Reference solution: open that day in the calendar, open the entry, delete it."""

from rig import actions as A

TITLE = "Review: Q2 budget ‘draft’"


def tap_last(env, text: str) -> None:
    """Tap the last element showing ``text`` (a dialog's button sits above the screen's)."""
    env.screen_text("phone")
    ids = [e.id for e in env.env.elements("phone") if e.text == text]
    assert ids, f"nothing shows {text!r}"
    env.do(A.Tap(device="phone", element=ids[-1]))


def solve(env):
    env.launch("phone", "calendar")
    env.tap_text("phone", "Day")
    env.tap_until("phone", "Next day", shown="Wed, Mar 18, 2026")
    env.tap_text("phone", TITLE)
    env.see("phone", "14:00")
    env.tap_text("phone", "Delete")
    tap_last(env, "Delete")  # the confirmation dialog's button
    assert TITLE not in env.screen_text("phone")
