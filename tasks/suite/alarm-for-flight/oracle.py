"""Reference solution: find the outbound departure in the booking mail, subtract three
hours, then add a labelled one-off alarm in the clock app, replacing the form's default
time with the one worked out."""

import re


def solve(env):
    mail = env.mail("laptop", "bk-7QX2LM@")
    dep = re.search(r"AC 0403\s+Wed 18 Mar 2026\s+.*?\(YYZ\) (\d\d):(\d\d)", mail)
    assert dep, mail
    wake = f"{(int(dep.group(1)) - 3) % 24:02d}:{dep.group(2)}"
    env.launch("phone", "clock")
    env.tap_desc("phone", "Add alarm")
    default = next(t for t in env.screen_text("phone") if re.fullmatch(r"\d\d:\d\d", t))
    assert default != wake, "the form opens at the answer: the task no longer tests it"
    env.retype("phone", default, wake)
    env.tap_text("phone", "Label")
    env.type("phone", "Flight AC 0403")
    env.tap_text("phone", "Save")
    env.see("phone", wake, "Flight AC 0403")
