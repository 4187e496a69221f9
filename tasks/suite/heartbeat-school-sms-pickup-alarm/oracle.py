"""Reference solution: at the 10:00 heartbeat read the school's SMS, the week plan on the
laptop (Tuesday is Maya's, alarm 20 minutes before), add a one-off alarm at 12:10, leave
the weekly one, tell the user."""

import re


def solve(env):
    env.sleep_until("10:00")
    env.launch("phone", "messages")
    env.tap_text("phone", "Grundschule Traveplatz Sekretariat")
    env.see("phone", "für alle Klassen um 12:30")
    plan = env.read_file("laptop", "/home/user/Documents/Familie/wochenplan.md")
    row = re.search(r"\| Di +\| Maya – Wecker „Emil abholen“ (\d+) Min vorher", plan)
    assert row, plan
    minutes = 12 * 60 + 30 - int(row.group(1))
    wake = f"{minutes // 60:02d}:{minutes % 60:02d}"
    env.launch("phone", "clock")
    env.tap_desc("phone", "Add alarm")
    default = next(t for t in env.screen_text("phone") if re.fullmatch(r"\d\d:\d\d", t))
    env.retype("phone", default, wake)
    env.tap_text("phone", "Label")
    env.type("phone", "Emil abholen – heute früher (12:30)")
    env.tap_text("phone", "Save")
    env.see("phone", wake, "Emil abholen – heute früher (12:30)")
    env.notify(
        f"The school texted: lessons end at 12:30 today (water damage, Hort closed). It's "
        f"your pickup day, so I set a one-off alarm for {wake} to pick up Emil; the weekly "
        "15:10 alarm stays for next Tuesday."
    )
