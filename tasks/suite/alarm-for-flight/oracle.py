"""Reference solution: find the outbound departure in the booking mail, subtract three
hours, then add a labelled one-off alarm in the clock app."""

import re


def solve(env):
    mail = env.shell("laptop", "mshow $(grep -rl 'bk-7QX2LM@' ~/Mail/INBOX)")
    dep = re.search(r"AC 0403\s+Wed 18 Mar 2026\s+.*?\(YYZ\) (\d\d):(\d\d)", mail.stdout)
    assert dep, mail.stdout
    wake = f"{(int(dep.group(1)) - 3) % 24:02d}:{dep.group(2)}"
    env.launch("phone", "com.android.deskclock")
    env.tap_desc("phone", "Add alarm")
    # The form opens at the next full hour, which is already the wake-up time here; the
    # agent API cannot erase a field's text yet (see the suite notes in the README).
    assert wake in env.screen_text("phone"), wake
    env.tap_text("phone", "Label")
    env.type("phone", "Flight AC 0403")
    env.tap_text("phone", "Save")
    assert wake in env.screen_text("phone")
