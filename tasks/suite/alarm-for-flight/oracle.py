"""Reference solution: find the outbound departure in the booking mail, then add a
Wednesday-only 04:05 alarm in the clock app."""

import re


def solve(env):
    mail = env.shell("laptop", "mshow $(grep -rl 'bk-7QX2LM@' ~/Mail/INBOX)")
    dep = re.search(r"AC 0403\s+Wed 18 Mar 2026\s+.*?\(YYZ\) (\d\d):(\d\d)", mail.stdout)
    assert dep and dep.groups() == ("07", "05"), mail.stdout
    env.launch("phone", "com.android.deskclock")
    env.tap_desc("phone", "Add alarm")
    env.tap_text("phone", "21:00")
    env.key("phone", "move_end")
    for _ in "21:00":
        env.key("phone", "del")
    env.type("phone", "04:05")
    env.tap_text("phone", "Label")
    env.type("phone", "Flight AC 0403 ✈")
    env.tap_text("phone", "Wed")
    env.tap_text("phone", "Save")
    assert "04:05" in env.screen_text("phone")
